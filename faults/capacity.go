package faults

import (
	"container/list"
	"context"
	"sync"
)

// limiter is the capacity model of a phase: at most conc requests in
// service, up to queue more waiting first come, first served (queue 0 =
// unlimited). Latency under overload grows as requests wait for a slot.
type limiter struct {
	mu      sync.Mutex
	conc    int
	queue   int
	busy    int
	waiters list.List // of chan struct{}, closed when handed a slot
}

func newLimiter(conc, queue int) *limiter { return &limiter{conc: conc, queue: queue} }

// acquire takes a slot, waiting in line if needed. It returns false at once
// when the queue is full, or when ctx or stop ends the wait.
func (l *limiter) acquire(ctx context.Context, stop <-chan struct{}, st *stats) bool {
	l.mu.Lock()
	if l.busy < l.conc {
		l.busy++
		l.mu.Unlock()
		st.inflight.Inc()
		return true
	}
	if l.queue > 0 && l.waiters.Len() >= l.queue {
		l.mu.Unlock()
		return false
	}
	ready := make(chan struct{})
	e := l.waiters.PushBack(ready)
	l.mu.Unlock()
	st.queued.Inc()
	defer st.queued.Dec()

	select {
	case <-ready:
		st.inflight.Inc()
		return true
	case <-ctx.Done():
	case <-stop:
	}
	l.mu.Lock()
	select {
	case <-ready:
		// Handed a slot while giving up: pass it on.
		l.mu.Unlock()
		st.inflight.Inc()
		l.release(st)
	default:
		l.waiters.Remove(e)
		l.mu.Unlock()
	}
	return false
}

// release frees a slot, handing it to the first waiter if any.
func (l *limiter) release(st *stats) {
	st.inflight.Dec()
	l.mu.Lock()
	defer l.mu.Unlock()
	if front := l.waiters.Front(); front != nil {
		l.waiters.Remove(front)
		close(front.Value.(chan struct{}))
		return
	}
	l.busy--
}
