package sim

import (
	"sort"
	"sync"
	"time"

	"brownout/assistant"
	"brownout/recording"
)

// breakerHistory keeps the breaker's transitions (there are few) so that a
// request or upstream call can be tagged with the state at its own time,
// not the state when its record happened to be written.
type breakerHistory struct {
	enabled bool
	mu      sync.RWMutex
	t0      time.Time
	at      []time.Time
	to      []string
}

func newBreakerHistory(enabled bool) *breakerHistory {
	return &breakerHistory{enabled: enabled}
}

func (h *breakerHistory) start(t0 time.Time) {
	h.mu.Lock()
	h.t0 = t0
	h.mu.Unlock()
}

// add records a transition. It runs inside gobreaker's OnStateChange, under
// the breaker's lock, so it only appends.
func (h *breakerHistory) add(tr assistant.Transition) {
	h.mu.Lock()
	h.at = append(h.at, tr.At)
	h.to = append(h.to, tr.To)
	h.mu.Unlock()
}

// stateAt returns the breaker state in force at t.
func (h *breakerHistory) stateAt(t time.Time) string {
	if !h.enabled {
		return recording.StateDisabled
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	i := sort.Search(len(h.at), func(i int) bool { return h.at[i].After(t) })
	if i == 0 {
		return recording.StateClosed
	}
	return h.to[i-1]
}

// current returns the latest state.
func (h *breakerHistory) current() string {
	if !h.enabled {
		return recording.StateDisabled
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.to) == 0 {
		return recording.StateClosed
	}
	return h.to[len(h.to)-1]
}
