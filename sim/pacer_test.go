package sim

import (
	"math"
	"testing"
	"time"
)

// simulate replays the pacer the way vegeta's attack loop does and returns
// the send times.
func simulate(t *testing.T, p *PhasePacer) []time.Duration {
	t.Helper()
	var sent []time.Duration
	var now time.Duration
	for hits := uint64(0); hits < 1_000_000; {
		wait, stop := p.Pace(now, hits)
		if stop {
			return sent
		}
		now += wait
		sent = append(sent, now)
		hits++
	}
	t.Fatal("pacer never stopped")
	return nil
}

func TestPhasePacerCounts(t *testing.T) {
	tests := []struct {
		name string
		segs []RateSegment
		want []int // hits per segment
	}{
		{"constant", []RateSegment{{Duration: 10 * time.Second, Rate: 20}}, []int{200}},
		{"two constants are seamless", []RateSegment{{Duration: 2 * time.Second, Rate: 10}, {Duration: 3 * time.Second, Rate: 40}}, []int{20, 120}},
		{"ramp 0 to 100 over 10s", []RateSegment{{Duration: 10 * time.Second, Pattern: "ramp", From: 0, To: 100}}, []int{500}},
		{"whole sine periods average the mean", []RateSegment{{Duration: 60 * time.Second, Pattern: "sine", Mean: 30, Amplitude: 10, Period: 20 * time.Second}}, []int{1800}},
		{"zero-rate phase sends nothing", []RateSegment{{Duration: time.Second, Rate: 5}, {Duration: time.Second, Rate: 0}, {Duration: time.Second, Rate: 5}}, []int{5, 0, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPhasePacer(tt.segs)
			if err != nil {
				t.Fatal(err)
			}
			sent := simulate(t, p)
			got := make([]int, len(tt.segs))
			for _, at := range sent {
				got[p.segment(at)]++
			}
			for i := range got {
				if math.Abs(float64(got[i]-tt.want[i])) > 1 {
					t.Errorf("segment %d: %d hits, want %d±1 (all: %v)", i, got[i], tt.want[i], got)
				}
			}
		})
	}
}

func TestPhasePacerRampIsGradual(t *testing.T) {
	p, err := NewPhasePacer([]RateSegment{{Duration: 10 * time.Second, Pattern: "ramp", From: 10, To: 50}})
	if err != nil {
		t.Fatal(err)
	}
	sent := simulate(t, p)
	var first, last int
	for _, at := range sent {
		if at < time.Second {
			first++
		}
		if at >= 9*time.Second {
			last++
		}
	}
	// Rate 10→14/s in the first second (≈12 hits) and 46→50/s in the last (≈48).
	if first < 11 || first > 13 || last < 47 || last > 49 {
		t.Errorf("first second %d hits (want ≈12), last second %d (want ≈48)", first, last)
	}
	if r := p.Rate(5 * time.Second); math.Abs(r-30) > 1e-9 {
		t.Errorf("Rate(5s) = %v, want 30", r)
	}
}

func TestPhasePacerRejectsBadSegments(t *testing.T) {
	for _, segs := range [][]RateSegment{
		{{Duration: 0, Rate: 1}},
		{{Duration: time.Second, Rate: -1}},
		{{Duration: time.Second, Rate: math.NaN()}},
	} {
		if _, err := NewPhasePacer(segs); err == nil {
			t.Errorf("NewPhasePacer(%+v): want an error", segs)
		}
	}
}
