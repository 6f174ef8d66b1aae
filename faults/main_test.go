package faults

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rate returns a pointer for FaultSpec.Rate.
func rate(r float64) *float64 { return &r }

// onePhase is a config with one endless phase holding the given faults.
func onePhase(fs ...FaultSpec) Config {
	return Config{Seed: 1, Phases: []Phase{{Name: "p", Tokens: 8, Faults: fs}}}
}

// startServer serves s on a loopback port until the test ends and returns
// its base URL.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.Close()
	})
	return "http://" + l.Addr().String()
}

// newServer builds a server or fails the test.
func newServer(t *testing.T, cfg Config, opts ...Option) *Server {
	t.Helper()
	s, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// freshClient has its own connection pool, so a fault that kills a
// connection does not leak into the next request, and closes it at the end.
func freshClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

const (
	chatBody       = `{"model":"tgi","messages":[{"role":"user","content":"What is a circuit breaker?"}],"max_tokens":6}`
	chatStreamBody = `{"model":"tgi","messages":[{"role":"user","content":"What is a circuit breaker?"}],"max_tokens":6,"stream":true,"stream_options":{"include_usage":true}}`
)

func post(c *http.Client, url, body string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.Do(req)
}

// sseEvents splits an SSE body into its data payloads.
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		} else if sc.Text() != "" {
			t.Errorf("unexpected SSE line %q", sc.Text())
		}
	}
	return out
}

// readAll reads a body and closes it, returning what was read and the error.
func readAll(r io.ReadCloser) ([]byte, error) {
	defer r.Close()
	b, err := io.ReadAll(r)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return b, err
}
