package timeouts

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// short are timeouts small enough for a unit test; the cases below wait
// on the server's own deadlines, never on sleeps.
var short = Timeouts{Header: time.Second, Read: 200 * time.Millisecond, Write: 200 * time.Millisecond, Idle: time.Second}

// serve runs h behind t on a loopback port until the test ends.
func serve(t *testing.T, tm Timeouts, h http.HandlerFunc) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	tm.Apply(srv)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
	})
	return l.Addr().String()
}

// TestSlowBodyIsCutOff is the slowloris case: headers, then one body byte
// per tick, the tick well inside the body timeout so that a per-read
// deadline would never fire. The server must give up on the body long
// before the client would have finished.
func TestSlowBodyIsCutOff(t *testing.T) {
	readErr := make(chan error, 1)
	addr := serve(t, short, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
		if err != nil {
			http.Error(w, "body too slow", http.StatusRequestTimeout)
		}
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 1000 // at one byte per 20 ms, 20 s to send
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	for ; sent < size; sent++ {
		select {
		case err := <-readErr:
			if err == nil {
				t.Fatal("the server read the whole slow body")
			}
			if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
				t.Errorf("body read failed with %v, want a timeout", err)
			}
			return
		case <-tick.C:
		}
		if _, err := conn.Write([]byte{'x'}); err != nil {
			return // the server closed the connection: cut off
		}
	}
	t.Fatalf("sent all %d bytes one by one without being cut off", sent)
}

// TestLongAnswerAfterTheBody checks that the read deadline is lifted once
// the body is read: a handler that takes several body timeouts to answer
// keeps its context and its connection.
func TestLongAnswerAfterTheBody(t *testing.T) {
	addr := serve(t, short, func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("read body: %v", err)
		}
		timer := time.NewTimer(4 * short.Read)
		defer timer.Stop()
		select {
		case <-r.Context().Done():
			t.Errorf("request context cancelled while answering: %v", context.Cause(r.Context()))
		case <-timer.C:
		}
		fmt.Fprint(w, "done")
	})
	resp, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader("question"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "done" {
		t.Errorf("answer %q, want done", b)
	}
}

// TestStreamOutlivesTheWriteTimeout checks that a stream that keeps
// writing lasts as long as it needs: the write deadline bounds a stall,
// not the response.
func TestStreamOutlivesTheWriteTimeout(t *testing.T) {
	const chunks = 8
	addr := serve(t, short, func(w http.ResponseWriter, r *http.Request) {
		tick := time.NewTicker(short.Write / 2)
		defer tick.Stop()
		for i := range chunks {
			<-tick.C
			fmt.Fprintf(w, "data: %d\n\n", i)
			http.NewResponseController(w).Flush()
		}
	})
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			n++
		}
	}
	if n != chunks || sc.Err() != nil {
		t.Errorf("got %d of %d events (err %v); the stream was cut", n, chunks, sc.Err())
	}
}

// TestClientThatStopsReadingIsCutOff writes far more than the socket
// buffers hold to a client that reads nothing: a write must fail once it
// has stalled for the write timeout.
func TestClientThatStopsReadingIsCutOff(t *testing.T) {
	writeErr := make(chan error, 1)
	addr := serve(t, short, func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		for range 256 {
			if _, err := w.Write(chunk); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if err := <-writeErr; err == nil {
		t.Fatal("256 MB written to a client that reads nothing")
	}
}
