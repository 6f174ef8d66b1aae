package sim

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"brownout/contract"
	"brownout/faults"
)

// breakerHistory keeps the breakers' transitions (there are few), one track
// per replica, so that a request or upstream call can be tagged with the
// state of its replica's breaker at its own time, not the state when its
// record happened to be written.
type breakerHistory struct {
	enabled bool
	mu      sync.RWMutex
	tracks  []track // by replica
}

type track struct {
	at []time.Time
	to []contract.State
}

func newBreakerHistory(enabled bool) *breakerHistory {
	return &breakerHistory{enabled: enabled}
}

// add records a transition. It runs inside gobreaker's OnStateChange, under
// the breaker's lock, so it only appends. A transition seen from outside
// is known to within an interval; the history counts the breaker as open
// only while it certainly was: from the latest time it can have opened to
// the earliest time it can have left open. So a call is never tagged open
// merely because the change was seen late.
func (h *breakerHistory) add(tr Transition) {
	at := tr.At
	if tr.From == contract.StateOpen {
		at = at.Add(-tr.Resolution)
	}
	h.mu.Lock()
	for len(h.tracks) <= tr.Replica {
		h.tracks = append(h.tracks, track{})
	}
	t := &h.tracks[tr.Replica]
	if n := len(t.at); n > 0 && at.Before(t.at[n-1]) {
		at = t.at[n-1]
	}
	t.at = append(t.at, at)
	t.to = append(t.to, tr.To)
	h.mu.Unlock()
}

// stateAt returns the state of replica's breaker in force at t.
func (h *breakerHistory) stateAt(replica int, t time.Time) contract.State {
	if !h.enabled {
		return contract.StateDisabled
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if replica >= len(h.tracks) {
		return contract.StateClosed
	}
	tr := &h.tracks[replica]
	i := sort.Search(len(tr.at), func(i int) bool { return tr.at[i].After(t) })
	if i == 0 {
		return contract.StateClosed
	}
	return tr.to[i-1]
}

// current returns the latest state of replica's breaker.
func (h *breakerHistory) current(replica int) contract.State {
	if !h.enabled {
		return contract.StateDisabled
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if replica >= len(h.tracks) || len(h.tracks[replica].to) == 0 {
		return contract.StateClosed
	}
	to := h.tracks[replica].to
	return to[len(to)-1]
}

// headerReplica tells the stamp transport which replica sent an upstream
// call; the built-in target's replicas set it (see replicaTransport).
const headerReplica = "X-Brownout-Replica"

// replicaTransport marks every upstream call of one replica.
type replicaTransport struct {
	next    http.RoundTripper
	replica string
}

func (t replicaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r2 := *req
	r2.Header = req.Header.Clone()
	r2.Header.Set(headerReplica, t.replica)
	return t.next.RoundTrip(&r2)
}

func replicaOf(h http.Header) int {
	n, _ := strconv.Atoi(h.Get(headerReplica))
	return max(n, 0)
}

// stampTransport sits between the assistant and the fake upstream. It
// tags each upstream call with a request id and remembers the breaker state
// at the moment the call left the assistant — right after the breaker
// admitted it. The fake's log carries the id back, so a call admitted just
// before a trip but arriving just after is not mistaken for a call the
// open breaker let through. The id starts with the load request's id, which
// the assistant forwards, and the time the call kept the assistant waiting
// is booked against that load request in waits (when set).
type stampTransport struct {
	next    http.RoundTripper
	hist    *breakerHistory
	waits   *waitLedger
	meter   *distortionMeter
	seq     atomic.Uint64
	pending sync.Map // request id -> sent
}

// sent is what the stamp transport knows of a call when it leaves the
// assistant: its replica's breaker state and the replica (from 0).
type sent struct {
	state   contract.State
	replica int
}

func (t *stampTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	loadID := req.Header.Get(contract.HeaderRequestID)
	var buf [48]byte
	b := buf[:0]
	if loadID != "" {
		b = append(append(b, loadID...), '.')
	}
	id := string(appendBase36(b, t.seq.Add(1)))
	replica := replicaOf(req.Header)
	t.pending.Store(id, sent{state: t.hist.current(replica), replica: replica})
	r2 := *req
	r2.Header = req.Header.Clone()
	r2.Header.Set(contract.HeaderRequestID, id)
	if t.waits == nil && t.meter == nil {
		return t.next.RoundTrip(&r2)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(&r2)
	if err != nil {
		t.ended(req, loadID, id, start, false)
		return nil, err
	}
	body := &timedBody{ReadCloser: resp.Body}
	body.done = func() { t.ended(req, loadID, id, start, body.eof) }
	resp.Body = body
	return resp, nil
}

// ended books the wait of upstream call id, sent for load request loadID
// at start; completed says its answer was read to the end.
func (t *stampTransport) ended(req *http.Request, loadID, id string, start time.Time, completed bool) {
	wait := time.Since(start)
	if t.waits != nil {
		t.waits.add(loadID, wait)
	}
	if t.meter != nil {
		timedOut := errors.Is(req.Context().Err(), context.DeadlineExceeded) && wait >= t.meter.callTimeout
		t.meter.clientSide(id, wait, timedOut, completed && !timedOut)
	}
}

// sentOf returns the breaker state when the call with this id was sent
// and the replica that sent it, or, for a call that carried no known id,
// the first replica's state at its arrival and known false.
func (t *stampTransport) sentOf(c *faults.Call) (s sent, known bool) {
	if c.RequestID != "" {
		if v, ok := t.pending.LoadAndDelete(c.RequestID); ok {
			return v.(sent), true
		}
	}
	return sent{state: t.hist.stateAt(0, c.At)}, false
}

// delayLine holds the records that carry the breaker state at their own
// time until the transitions of a target seen from outside have had time
// to arrive: a transition is seen up to a polling interval (plus the
// reading's round trip) after it happened. Records leave in the order they
// came.
type delayLine struct {
	delay time.Duration
	mu    sync.Mutex
	items []delayed
}

type delayed struct {
	at    time.Time
	write func()
}

// newDelayLine returns a line that holds records for delay; the delay
// covers a few polling intervals and a generous round trip.
func newDelayLine(resolution time.Duration) *delayLine {
	return &delayLine{delay: 4*resolution + 250*time.Millisecond}
}

// push queues write for a record of time at, and writes the records whose
// state is settled by now.
func (d *delayLine) push(at time.Time, write func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.items = append(d.items, delayed{at: at, write: write})
	d.flushLocked(time.Now().Add(-d.delay))
}

// flushAll writes every record still held (the end of a run).
func (d *delayLine) flushAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, it := range d.items {
		it.write()
	}
	d.items = nil
}

func (d *delayLine) flushLocked(before time.Time) {
	n := 0
	for n < len(d.items) && d.items[n].at.Before(before) {
		d.items[n].write()
		n++
	}
	if n > 0 {
		d.items = append(d.items[:0], d.items[n:]...)
	}
}
