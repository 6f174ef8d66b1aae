package sim

import (
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"brownout/scenarios"
)

// RateSegment is the request rate pattern of one phase, in real (already
// time-compressed) time and requests per real second.
type RateSegment struct {
	Duration time.Duration
	// Pattern is "constant", "ramp" or "sine".
	Pattern string
	// Rate is the constant rate in requests per second.
	Rate float64
	// From and To bound a ramp that changes linearly across the segment.
	From, To float64
	// Mean, Amplitude and Period shape a sine: Mean + Amplitude*sin(2πt/Period).
	Mean, Amplitude float64
	Period          time.Duration
}

// spec is the segment as the scenario's rate pattern, whose math
// (scenarios.RateSpec) reports share.
func (s RateSegment) spec() scenarios.RateSpec {
	return scenarios.RateSpec{
		Pattern: s.Pattern, Rate: scenarios.Rate(s.Rate), From: scenarios.Rate(s.From), To: scenarios.Rate(s.To),
		Mean: scenarios.Rate(s.Mean), Amplitude: scenarios.Rate(s.Amplitude), Period: scenarios.Duration(s.Period),
	}
}

// rate is the instantaneous rate in requests per second at offset t.
func (s RateSegment) rate(t time.Duration) float64 { return s.spec().At(s.Duration, t) }

// hits is the expected number of requests sent in [0, t) of the segment:
// the integral of rate.
func (s RateSegment) hits(t time.Duration) float64 { return s.spec().Requests(s.Duration, t) }

// PhasePacer is a vegeta.Pacer that follows one rate pattern per phase,
// back to back and seamless at the boundaries: the expected number of hits
// is the integral of the piecewise rate, so a boundary neither bunches nor
// drops requests. It stops after the last segment.
type PhasePacer struct {
	segs   []RateSegment
	starts []time.Duration // start of each segment
	before []float64       // hits expected before each segment
	total  time.Duration
	hitsAt float64 // hits expected over the whole run
}

var _ vegeta.Pacer = (*PhasePacer)(nil)

// NewPhasePacer builds a pacer from consecutive segments.
func NewPhasePacer(segs []RateSegment) (*PhasePacer, error) {
	p := &PhasePacer{segs: segs}
	var at time.Duration
	var n float64
	for i, s := range segs {
		if s.Duration <= 0 {
			return nil, fmt.Errorf("pacer: segment %d: duration %v must be positive", i, s.Duration)
		}
		for _, r := range []float64{s.Rate, s.From, s.To, s.Mean} {
			if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
				return nil, fmt.Errorf("pacer: segment %d: rate %v must be a finite number >= 0", i, r)
			}
		}
		p.starts = append(p.starts, at)
		p.before = append(p.before, n)
		at += s.Duration
		n += s.hits(s.Duration)
	}
	p.total, p.hitsAt = at, n
	return p, nil
}

// Duration is the length of the whole pattern.
func (p *PhasePacer) Duration() time.Duration { return p.total }

// segment returns the index of the segment holding elapsed time t.
func (p *PhasePacer) segment(t time.Duration) int {
	for i := len(p.segs) - 1; i > 0; i-- {
		if t >= p.starts[i] {
			return i
		}
	}
	return 0
}

// expected is the number of hits expected in [0, t).
func (p *PhasePacer) expected(t time.Duration) float64 {
	if t >= p.total {
		return p.hitsAt
	}
	i := p.segment(t)
	return p.before[i] + p.segs[i].hits(t-p.starts[i])
}

// Pace implements vegeta.Pacer: it returns how long to wait before hit
// number hits+1 is due.
func (p *PhasePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if elapsed >= p.total {
		return 0, true
	}
	due := float64(hits + 1)
	if due > p.hitsAt+1e-9 {
		return 0, true
	}
	if p.expected(elapsed) >= due {
		return 0, false
	}
	// Find the earliest time at which the expected count reaches due.
	// expected is non-decreasing, so bisection on [elapsed, total] works for
	// every pattern; 40 halvings resolve a day-long run to below 0.1 µs.
	lo, hi := elapsed, p.total
	for i := 0; i < 40 && hi-lo > time.Microsecond/10; i++ {
		mid := lo + (hi-lo)/2
		if p.expected(mid) >= due {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi - elapsed, false
}

// Rate implements vegeta.Pacer: the instantaneous rate at elapsed time.
func (p *PhasePacer) Rate(elapsed time.Duration) float64 {
	if elapsed >= p.total || len(p.segs) == 0 {
		return 0
	}
	i := p.segment(elapsed)
	return p.segs[i].rate(elapsed - p.starts[i])
}
