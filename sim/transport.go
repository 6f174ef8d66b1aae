package sim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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
	rw := httptest.NewRecorder()
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
	resp := rw.Result()
	resp.ContentLength = int64(rw.Body.Len())
	resp.Request = req
	return resp, nil
}

// contextTransport makes every request also end when ctx ends.
type contextTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t contextTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(t.ctx, cancel)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, stop: stop, cancel: cancel}
	return resp, nil
}

// cancelOnClose ends a contextTransport request's context when its body
// is closed.
type cancelOnClose struct {
	io.ReadCloser
	stop   func() bool
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.stop()
	c.cancel()
	return err
}
