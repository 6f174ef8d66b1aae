package scenarios

import (
	"math"
	"math/rand/v2"
	"time"
)

// timelineStream separates the timeline's draws from every other use of
// the seed (the fake server's fault decisions and latencies use their own
// streams), so that drawing an outage length shifts nothing else.
const timelineStream = 0x71e11e

// Resolve returns a deep copy of s with its timeline drawn: every phase
// whose duration is a distribution gets one length drawn from it, and every
// start_jitter becomes an offset drawn uniformly from [0, start_jitter] that
// lengthens the phase before. The draws come from s.Seed alone, in phase
// order (jitter, then length), so one seed always gives the same timeline
// and `--repeat` (seed, seed+1, …) samples different incidents. The copy
// has no distributions or jitter left: Resolve on it changes nothing, and
// its Marshal shows the incident as played. It is the one place where a
// timeline is drawn; sim calls it before time compression.
func (s *Scenario) Resolve() *Scenario {
	out := s.Scaled(1) // a deep copy
	rng := rand.New(rand.NewPCG(uint64(s.Seed), timelineStream))
	for i := range out.Phases {
		p := &out.Phases[i]
		if p.StartJitter > 0 {
			if i > 0 {
				out.Phases[i-1].Duration += Duration(rng.Int64N(int64(p.StartJitter) + 1))
			}
			p.StartJitter = 0
		}
		if p.DurationDist != nil {
			p.Duration = drawDuration(*p.DurationDist, rng)
			p.DurationDist = nil
		}
	}
	return out
}

// drawDuration samples a phase length from d: fixed, uniform on [min, max]
// or lognormal with the given median and 99th percentile, clamped to cap
// when set. Validation admits only these, with positive parameters, so a
// draw is positive; it is rounded to the millisecond, as a person would
// write it.
func drawDuration(d Dist, rng *rand.Rand) Duration {
	var v float64
	switch d.Dist {
	case DistUniform:
		v = float64(d.Min) + rng.Float64()*float64(d.Max-d.Min)
	case DistLognormal:
		// p99 = median · exp(z99·σ), z99 = 2.3263 (the 99th percentile of
		// the standard normal).
		sigma := math.Log(float64(d.P99)/float64(d.Median)) / 2.3263478740408408
		v = float64(d.Median) * math.Exp(sigma*rng.NormFloat64())
	default: // fixed
		v = float64(d.Value)
	}
	if d.Cap > 0 {
		v = math.Min(v, float64(d.Cap))
	}
	ms := math.Max(1, math.Round(v/float64(time.Millisecond)))
	return Duration(time.Duration(ms) * time.Millisecond)
}
