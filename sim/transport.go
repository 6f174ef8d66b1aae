package sim

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// handlerTransport is an http.RoundTripper that serves each request by
// calling a handler in memory, with no sockets. It lets a whole run execute
// inside a testing/synctest bubble, where time is virtual and a real
// listener's goroutines could not take part.
type handlerTransport struct {
	h http.Handler
}

// RoundTrip implements http.RoundTripper. The handler runs on its own
// goroutine so that a cancelled request returns at once, as it would over a
// socket, while the handler sees the cancellation through its context.
func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		req.Body = http.NoBody
	}
	rw := &bufferedResponse{header: make(http.Header), status: http.StatusOK}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.h.ServeHTTP(rw, req)
	}()
	select {
	case <-done:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	resp := &http.Response{
		Status:        strconv.Itoa(rw.status) + " " + http.StatusText(rw.status),
		StatusCode:    rw.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rw.header,
		Body:          io.NopCloser(bytes.NewReader(rw.body.Bytes())),
		ContentLength: int64(rw.body.Len()),
		Request:       req,
	}
	return resp, nil
}

// bufferedResponse is the http.ResponseWriter behind handlerTransport.
type bufferedResponse struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.status = code
}

func (w *bufferedResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Flush lets handlers that stream call http.Flusher without effect.
func (w *bufferedResponse) Flush() {}
