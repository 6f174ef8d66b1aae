package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// ErrClosed is the error of in-memory round trips cut off by [Server.Close].
var ErrClosed = errors.New("faults: server closed")

// RoundTripper returns a transport that serves requests in memory, with no
// sockets, so tests can run the server inside a testing/synctest bubble or
// hand it to an http.Client. Bodies stream as the handler writes them.
// Faults that need a socket map to the error a real transport reports:
// reset to ECONNRESET (a *net.OpError), empty to io.EOF, a cut body to
// io.ErrUnexpectedEOF, and a hang blocks until the request's context ends.
func (s *Server) RoundTripper() http.RoundTripper { return memTransport{s} }

type memTransport struct{ s *Server }

func (t memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.s
	if s.stopCtx.Err() != nil {
		return nil, ErrClosed
	}
	ctx := req.Context()
	pr, pw := io.Pipe()
	m := &memWriter{header: make(http.Header), pw: pw, ready: make(chan struct{}), req: req}
	sreq := req.Clone(ctx)
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "127.0.0.1:1"
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	// A cancelled request or a stopped server fails the body like a
	// dropped connection would.
	stopCtx := context.AfterFunc(ctx, func() { m.abort(context.Cause(ctx)) })
	stopSrv := context.AfterFunc(s.stopCtx, func() { m.abort(ErrClosed) })

	s.mem.Add(1)
	go func() {
		defer s.mem.Done()
		defer sreq.Body.Close()
		defer stopCtx()
		defer stopSrv()
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				m.abort(fmt.Errorf("faults: handler panic: %v", v))
			}
			m.finish()
		}()
		s.ServeHTTP(m, sreq)
	}()

	select {
	case <-m.ready:
	case <-ctx.Done():
		m.abort(context.Cause(ctx))
		<-m.ready
	}
	if ctx.Err() != nil {
		// The client gave up first, whatever the handler did since.
		_ = pr.Close()
		return nil, context.Cause(ctx)
	}
	if m.err != nil {
		_ = pr.Close()
		return nil, m.err
	}
	m.resp.Body = pr
	return m.resp, nil
}

// memWriter is the server side of an in-memory round trip.
type memWriter struct {
	req    *http.Request
	header http.Header
	pw     *io.PipeWriter

	mu    sync.Mutex
	sent  bool           // the response head is out
	ready chan struct{}  // closed once resp or err is set
	resp  *http.Response // set before ready closes
	err   error          // set before ready closes when there is no response
}

func (m *memWriter) Header() http.Header { return m.header }

func (m *memWriter) WriteHeader(code int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sent || m.err != nil {
		return
	}
	m.sent = true
	h := m.header.Clone()
	cl := int64(-1)
	if v := h.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			cl = n
		}
	}
	m.resp = &http.Response{
		Status:        strconv.Itoa(code) + " " + http.StatusText(code),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		ContentLength: cl,
		Request:       m.req,
	}
	close(m.ready)
}

func (m *memWriter) Write(b []byte) (int, error) {
	m.WriteHeader(http.StatusOK)
	return m.pw.Write(b)
}

// Flush is a no-op: the pipe hands every write to the reader.
func (m *memWriter) Flush() {}

// abort drops the "connection": before the head, the round trip fails
// with err; after it, reading the body fails with err.
func (m *memWriter) abort(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.sent && m.err == nil {
		m.err = err
		close(m.ready)
	}
	_ = m.pw.CloseWithError(err)
}

// finish ends the response when the handler returns.
func (m *memWriter) finish() {
	if ctx := m.req.Context(); ctx.Err() != nil {
		// The client left: its reads fail the way its context says.
		m.abort(context.Cause(ctx))
		return
	}
	m.WriteHeader(http.StatusOK)
	_ = m.pw.Close()
}
