package sim

import (
	"testing"
	"time"
)

func TestDueInvertsExpectedHits(t *testing.T) {
	p, err := NewPhasePacer([]RateSegment{
		{Duration: time.Second, Rate: 10},
		{Duration: 2 * time.Second, Pattern: "ramp", From: 10, To: 50},
		{Duration: time.Second, Pattern: "sine", Mean: 20, Amplitude: 10, Period: 500 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Due(0); got < 100*time.Millisecond-time.Microsecond || got > 100*time.Millisecond+time.Microsecond {
		t.Errorf("Due(0) at 10/s = %v, want 100ms", got)
	}
	n := uint64(p.expected(p.Duration()))
	var prev time.Duration
	for i := range n {
		d := p.Due(i)
		if d < prev {
			t.Fatalf("Due(%d) = %v before Due(%d) = %v", i, d, i-1, prev)
		}
		prev = d
		// The due time is where Pace stops waiting for hit i.
		if wait, _ := p.Pace(d, i); wait != 0 {
			t.Errorf("Pace(Due(%d)=%v) still waits %v", i, d, wait)
		}
		if wait, _ := p.Pace(d-time.Microsecond, i); wait == 0 {
			t.Errorf("Pace(Due(%d)-1µs) does not wait: Due is late", i)
		}
	}
	if got := p.Due(n + 5); got != p.Duration() {
		t.Errorf("Due past the last hit = %v, want the end %v", got, p.Duration())
	}
}
