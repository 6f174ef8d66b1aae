package faults

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"
)

// abortKind is how a connection is dropped.
type abortKind int

const (
	abortEmpty    abortKind = iota // close, nothing (more) sent: EOF
	abortReset                     // RST: connection reset by peer
	abortTruncate                  // close mid-body: unexpected EOF
)

// exchange is one inference request in service: the request, the plan the
// selected fault set, and the accounting for its [Call].
type exchange struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	route   string
	phase   *phaseState
	req     request
	gen     generation
	arrival time.Time
	buf     []byte // scratch for rendering; pooled

	// The plan; the zero plan (with cutAfter, errAfter = -1) is healthy.
	fault       string        // kind of the fault that fired, "" for none
	handled     bool          // the fault answered the request itself
	extraDelay  time.Duration // latency: added to the time to first token
	contentType []string      // wrong_content_type: replaces Content-Type
	bytesPerSec int           // slow_body: body pace
	cutAfter    int           // stream_cut: tokens before the cut
	errAfter    int           // stream_error: tokens before the error
	errMsg      string        // stream_error: message
	malformed   string        // malformed: "truncated" or "invalid"
	slowStart   time.Time     // slow_body: when the first body byte was due
	slowSent    int64         // slow_body: bytes paced so far

	status int   // HTTP status sent, 0 if none
	bytes  int64 // body bytes sent

	delay  time.Duration // planned holds so far (sleeps asked for, a hang's max)
	queued time.Duration // time spent waiting for a capacity slot
	noSlot bool          // waited for a slot and left without one
}

// sleep waits d, or less if the client goes away or the server stops; it
// reports whether the full time passed.
func (ex *exchange) sleep(d time.Duration) bool {
	if d > 0 {
		ex.delay += d
	}
	if d <= 0 {
		return ex.r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ex.r.Context().Done():
		return false
	case <-ex.s.stopCtx.Done():
		return false
	}
}

// hang holds the request without answering until the client goes away,
// the server releases hangs, or max passes; then it drops the connection.
func (ex *exchange) hang(max time.Duration) {
	if h := ex.s.testHookHang; h != nil {
		h()
	}
	ex.delay += max
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ex.r.Context().Done():
	case <-ex.s.releaseCtx.Done():
	}
	ex.abort(abortEmpty)
}

// errConnReset is what a client's transport reports for a TCP reset.
var errConnReset = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}

// abort drops the connection. Over a socket it hijacks the connection (with
// linger 0 for a reset); in memory it fails the round trip or the body
// with the error a real transport would give.
func (ex *exchange) abort(kind abortKind) {
	if m, ok := ex.w.(*memWriter); ok {
		switch kind {
		case abortReset:
			m.abort(errConnReset)
		case abortTruncate:
			m.abort(io.ErrUnexpectedEOF)
		default:
			m.abort(io.EOF)
		}
		return
	}
	conn, _, err := http.NewResponseController(ex.w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, a wrapper): let net/http drop it.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && kind == abortReset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// writeHeader sends the status line, applying a wrong_content_type plan.
func (ex *exchange) writeHeader(code int) {
	if ex.contentType != nil && code < 300 {
		ex.w.Header()["Content-Type"] = ex.contentType
	}
	ex.status = code
	ex.w.WriteHeader(code)
}

// write sends body bytes, at the slow_body pace if one is planned.
func (ex *exchange) write(b []byte) error {
	if ex.bytesPerSec <= 0 {
		n, err := ex.w.Write(b)
		ex.bytes += int64(n)
		return err
	}
	// Pace against an absolute schedule from the first body byte, so late
	// wake-ups do not add up: byte k is due at start + k/rate.
	if ex.slowStart.IsZero() {
		ex.slowStart = time.Now()
	}
	chunk := max(1, ex.bytesPerSec/10)
	for len(b) > 0 {
		n := min(chunk, len(b))
		due := ex.slowStart.Add(time.Duration(ex.slowSent+int64(n)) * time.Second / time.Duration(ex.bytesPerSec))
		if !ex.sleep(time.Until(due)) {
			return context.Canceled
		}
		ex.slowSent += int64(n)
		w, err := ex.w.Write(b[:n])
		ex.bytes += int64(w)
		if err != nil {
			return err
		}
		ex.flush()
		b = b[n:]
	}
	return nil
}

func (ex *exchange) flush() {
	if f, ok := ex.w.(http.Flusher); ok {
		f.Flush()
	}
}

// respond sends a complete (non-streaming) answer, applying the malformed
// and stream_cut plans to successful bodies.
func (ex *exchange) respond(code int, ctype []string, body []byte) {
	h := ex.w.Header()
	if ctype != nil {
		h["Content-Type"] = ctype
	}
	if code == http.StatusOK && ex.malformed != "" {
		body = corrupt(body, ex.malformed)
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	ex.writeHeader(code)
	if code == http.StatusOK && ex.cutAfter >= 0 {
		if ex.write(body[:len(body)/2]) == nil {
			ex.flush()
		}
		ex.abort(abortTruncate)
		return
	}
	_ = ex.write(body)
}

// respondError answers a client mistake.
func (ex *exchange) respondError(e *apiError) { ex.respond(e.status, e.ctype, e.body) }

// startStream sends the headers of an SSE answer.
func (ex *exchange) startStream() {
	h := ex.w.Header()
	h["Content-Type"] = ctEventStream
	h["Cache-Control"] = noCache
	h["X-Accel-Buffering"] = accelNo
	h["X-Compute-Type"] = computeType
	ex.writeHeader(http.StatusOK)
}

// event sends one SSE event "data: <payload>\n\n", the payload appended
// by render. With a malformed plan the payload is corrupted; the caller
// ends the stream after it.
func (ex *exchange) event(render func(b []byte) []byte) error {
	b := append(ex.buf[:0], "data: "...)
	b = render(b)
	if ex.malformed != "" {
		b = append(b[:6], corrupt(b[6:], ex.malformed)...)
	}
	b = append(b, "\n\n"...)
	ex.buf = b
	return ex.write(b)
}

// keepAlive is TGI's (axum's) SSE keep-alive period: a comment frame
// after this much silence.
const keepAlive = 15 * time.Second

var keepAliveFrame = []byte(":\n\n")

// streamSleep waits d inside a stream, sending a keep-alive comment every
// 15 s of silence like TGI; it reports whether the full time passed.
func (ex *exchange) streamSleep(d time.Duration) bool {
	for d > keepAlive {
		if !ex.sleep(keepAlive) || ex.write(keepAliveFrame) != nil {
			return false
		}
		ex.flush()
		d -= keepAlive
	}
	return ex.sleep(d)
}

// done sends the terminal "data: [DONE]" event of /v1 streams.
func (ex *exchange) done() error { return ex.write(doneEvent) }

var doneEvent = []byte("data: [DONE]\n\n")
