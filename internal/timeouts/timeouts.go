// Package timeouts bounds how long brownout's HTTP servers (the built-in
// assistant and the fake inference server) wait on a slow or silent
// client, so that connections that send headers and then one body byte
// every few seconds (slowloris), or never read their answer, are cut off
// instead of being held for as long as the client likes.
//
// Reading uses net/http's ReadTimeout, which bounds headers and body
// together and is lifted once the body has been read (so a long answer is
// not cancelled). Writing does not use net/http's WriteTimeout, which
// bounds the whole response and would cut a long stream: the write
// deadline here bounds each write (a stall), so a stream that keeps
// writing lasts as long as it needs and a client that stops reading is cut
// off.
package timeouts

import (
	"net/http"
	"time"
)

// Timeouts are the limits of one server; a zero field means no limit.
type Timeouts struct {
	// Header bounds reading a request's headers (http.Server.ReadHeaderTimeout).
	Header time.Duration
	// Read bounds reading a whole request, headers and body
	// (http.Server.ReadTimeout); a body still incomplete then fails to
	// read. net/http lifts it once the body has been read.
	Read time.Duration
	// Write bounds each write to the client, so a client that stops
	// reading is cut off, while a stream that keeps writing lasts as long
	// as it needs.
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for its next
	// request (http.Server.IdleTimeout).
	Idle time.Duration
}

// Apply sets srv's header, read and idle timeouts and wraps its handler
// so that the write timeout holds for every write.
func (t Timeouts) Apply(srv *http.Server) {
	srv.ReadHeaderTimeout = t.Header
	srv.ReadTimeout = t.Read
	srv.IdleTimeout = t.Idle
	srv.Handler = t.wrap(srv.Handler)
}

// wrap returns h with the write timeout applied.
func (t Timeouts) wrap(h http.Handler) http.Handler {
	if t.Write <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// A fresh budget for this request: the deadline left by the
		// previous request on this connection may have passed.
		_ = rc.SetWriteDeadline(time.Now().Add(t.Write))
		// The server flushes what is buffered after the handler returns;
		// give that flush its own budget.
		defer func() { _ = rc.SetWriteDeadline(time.Now().Add(t.Write)) }()
		h.ServeHTTP(&writer{ResponseWriter: w, rc: rc, stall: t.Write}, r)
	})
}

// writer renews the write deadline before every write and flush.
type writer struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

// Write renews the deadline, then writes.
func (w *writer) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.stall))
	return w.ResponseWriter.Write(p)
}

// Flush renews the deadline, then sends what is buffered.
func (w *writer) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.stall))
	_ = w.rc.Flush()
}

// Unwrap exposes the server's writer to http.ResponseController (for
// Hijack, which the fake server uses to drop connections).
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
