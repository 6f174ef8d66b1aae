package recording

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// Writer streams the records of one run to its folder as they happen, so
// memory does not grow with the length of a run and an interrupted run
// still leaves valid files behind. It is safe for concurrent use.
type Writer struct {
	dir    string
	header Header
	lock   *flock.Flock

	mu          sync.Mutex
	requests    *jsonlFile
	transitions *jsonlFile
	upstream    *jsonlFile
	attached    []*jsonlFile
	counts      Counts
	closed      bool
	stopFlush   chan struct{}
	stopOnce    sync.Once
	flushDone   chan struct{}
}

type jsonlFile struct {
	f   *os.File
	w   *bufio.Writer
	buf []byte
}

func createJSONL(path string) (*jsonlFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &jsonlFile{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (j *jsonlFile) close() error {
	return errors.Join(j.w.Flush(), j.f.Close())
}

// Create makes dir (and its parents) and starts a recording there with the
// given header; Format, Complete and Counts are set by the Writer.
//
// The folder is locked for as long as the Writer is open (an OS lock on
// LockFile, released when the process ends however it ends), so a second
// run into the same folder is refused with an error wrapping ErrLocked
// instead of interleaving its records. A folder that already holds a run
// (a run.json) is refused with an error wrapping ErrExists unless Replace
// is given; the records of the earlier run and the files named by Derived
// are removed before the new run writes anything. Buffered records reach
// the files every DefaultFlushInterval (see FlushEvery), so a killed run
// loses at most that much.
func Create(dir string, h Header, opts ...CreateOption) (*Writer, error) {
	cfg := createConfig{flushEvery: DefaultFlushInterval}
	for _, o := range opts {
		o(&cfg)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	if err := clearEarlier(dir, &cfg); err != nil {
		lock.Close()
		return nil, err
	}
	h.Format = FormatVersion
	h.Complete = false
	w := &Writer{dir: dir, header: h, lock: lock}
	open := func(name string) *jsonlFile {
		if err != nil {
			return nil
		}
		var f *jsonlFile
		f, err = createJSONL(filepath.Join(dir, name))
		return f
	}
	w.requests = open(RequestsFile)
	w.transitions = open(TransitionsFile)
	w.upstream = open(UpstreamFile)
	if err == nil {
		err = writeHeader(dir, &w.header)
	}
	if err != nil {
		w.closeFiles()
		lock.Close()
		return nil, fmt.Errorf("recording: %w", err)
	}
	if cfg.flushEvery > 0 {
		w.stopFlush, w.flushDone = make(chan struct{}), make(chan struct{})
		go w.flushLoop(cfg.flushEvery)
	}
	return w, nil
}

// Dir is the folder the Writer writes into.
func (w *Writer) Dir() string { return w.dir }

// Request appends one request record.
func (w *Writer) Request(r Request) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	w.counts.Requests++
	f := w.requests
	f.buf = appendRequest(f.buf[:0], &r)
	_, err := f.w.Write(f.buf)
	return err
}

// Transition appends one breaker transition record.
func (w *Writer) Transition(t Transition) error {
	return w.writeJSON(w.transitions, &w.counts.Transitions, t)
}

// UpstreamCall appends one upstream call record.
func (w *Writer) UpstreamCall(c UpstreamCall) error {
	return w.writeJSON(w.upstream, &w.counts.UpstreamCalls, c)
}

var errClosed = errors.New("recording: writer is closed")

func (w *Writer) writeJSON(f *jsonlFile, n *int64, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	*n++
	b = append(b, '\n')
	_, err = f.w.Write(b)
	return err
}

// Amend changes the header (e.g. with what the target reported once it
// started) and rewrites run.json at once.
func (w *Writer) Amend(fn func(*Header)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	fn(&w.header)
	if err := writeHeader(w.dir, &w.header); err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	return nil
}

// Flush pushes buffered records to the files, so a crash loses little.
// The Writer flushes on its own every FlushEvery interval; callers flush
// at moments that matter, such as a phase boundary.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	errs := []error{w.requests.w.Flush(), w.transitions.w.Flush(), w.upstream.w.Flush()}
	for _, a := range w.attached {
		errs = append(errs, a.w.Flush())
	}
	return errors.Join(errs...)
}

// flushLoop flushes every interval of real time until Close.
func (w *Writer) flushLoop(every time.Duration) {
	defer close(w.flushDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.Flush() // an error shows again, and is returned, at Close
		case <-w.stopFlush:
			return
		}
	}
}

// Close finishes the recording: it flushes every file and rewrites the
// header with the final counts, the covered duration and whether the run
// was interrupted. Records offered after Close are refused.
func (w *Writer) Close(duration time.Duration, endedAt time.Time, interrupted bool) error {
	return w.finish(duration, endedAt, interrupted, true)
}

// Abort ends a recording that failed before its run finished: the records
// so far are kept and the header says the recording is not complete, so a
// report never takes it for a finished run.
func (w *Writer) Abort(endedAt time.Time) error {
	return w.finish(0, endedAt, false, false)
}

func (w *Writer) finish(duration time.Duration, endedAt time.Time, interrupted, complete bool) error {
	if w.stopFlush != nil {
		w.stopOnce.Do(func() {
			close(w.stopFlush)
			<-w.flushDone
		})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.closeFiles()
	w.header.Counts = w.counts
	w.header.Duration = duration
	w.header.EndedAt = endedAt
	w.header.Interrupted = interrupted
	w.header.Complete = complete && err == nil
	if herr := writeHeader(w.dir, &w.header); herr != nil {
		err = errors.Join(err, herr)
	}
	err = errors.Join(err, w.lock.Close())
	if err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	return nil
}

func (w *Writer) closeFiles() error {
	var errs []error
	for _, f := range []*jsonlFile{w.requests, w.transitions, w.upstream} {
		if f != nil {
			errs = append(errs, f.close())
		}
	}
	for _, a := range w.attached {
		errs = append(errs, a.close())
	}
	return errors.Join(errs...)
}

// writeHeader replaces run.json atomically so a reader never sees half a header.
func writeHeader(dir string, h *Header) error {
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, HeaderFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, HeaderFile))
}

// appendRequest encodes r as one JSON line, byte for byte what encoding/json
// would produce, without reflection: the request log is the recorder's hot
// path.
func appendRequest(b []byte, r *Request) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"t_ns":`...)
	b = strconv.AppendInt(b, int64(r.T), 10)
	b = append(b, `,"intended_ns":`...)
	b = strconv.AppendInt(b, int64(r.Intended), 10)
	b = append(b, `,"latency_ns":`...)
	b = strconv.AppendInt(b, int64(r.Latency), 10)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"outcome":`...)
	b = appendString(b, string(r.Outcome))
	if r.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, r.Reason)
	}
	b = append(b, `,"phase":`...)
	b = appendString(b, r.Phase)
	b = append(b, `,"breaker":`...)
	b = appendString(b, r.Breaker)
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	if r.RealLatency != 0 {
		b = append(b, `,"real_latency_ns":`...)
		b = strconv.AppendInt(b, int64(r.RealLatency), 10)
	}
	if r.Replica != 0 {
		b = append(b, `,"replica":`...)
		b = strconv.AppendInt(b, int64(r.Replica), 10)
	}
	return append(b, "}\n"...)
}

// appendString quotes s as a JSON string; plain ASCII takes the fast path.
func appendString[S ~string](b []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
