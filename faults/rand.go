package faults

import (
	"math/rand/v2"
	"sync"
	"time"
)

// lockedRand is a seeded generator shared by concurrent requests. The lock
// makes the sequence of draws (not their assignment to goroutines)
// reproducible; callers that need a draw tied to a request do the drawing
// under their own ordering lock.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

// newRand returns a generator seeded from seed; stream separates the
// independent sequences of one server (fault decisions, timing, ...).
func newRand(seed int64, stream uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15^stream))}
}

// Sample draws one value from d.
func (l *lockedRand) Sample(d Dist) time.Duration {
	if _, ok := d.(zeroDist); ok {
		return 0
	}
	l.mu.Lock()
	v := d.Sample(l.r)
	l.mu.Unlock()
	return v
}

// SampleN returns the sum of n draws from d, under one lock.
func (l *lockedRand) SampleN(d Dist, n int) time.Duration {
	if _, ok := d.(zeroDist); ok || n <= 0 {
		return 0
	}
	var sum time.Duration
	l.mu.Lock()
	for range n {
		sum += d.Sample(l.r)
	}
	l.mu.Unlock()
	return sum
}
