package scenarios

import (
	"math"
	"time"
)

// At is the instantaneous rate, in requests per second, at offset t into
// a phase of length phase. The load generator paces by it and reports
// compare the rate achieved with it, so both read the pattern here.
func (r RateSpec) At(phase, t time.Duration) float64 {
	switch r.Pattern {
	case "ramp":
		if phase <= 0 {
			return r.To.PerSecond()
		}
		return r.From.PerSecond() + (r.To.PerSecond()-r.From.PerSecond())*t.Seconds()/phase.Seconds()
	case "sine":
		if r.Period <= 0 {
			return math.Max(0, r.Mean.PerSecond())
		}
		return math.Max(0, r.Mean.PerSecond()+r.Amplitude.PerSecond()*math.Sin(2*math.Pi*t.Seconds()/r.Period.D().Seconds()))
	default:
		return r.Rate.PerSecond()
	}
}

// Requests is the expected number of requests in the first t of a phase of
// length phase: the integral of At. Closed forms keep pacing cheap; a sine
// whose amplitude exceeds its mean is clipped at zero, so its integral is
// only approximated by the unclipped form (validation keeps amplitude <=
// mean).
func (r RateSpec) Requests(phase, t time.Duration) float64 {
	x := t.Seconds()
	switch r.Pattern {
	case "ramp":
		if phase <= 0 {
			return r.To.PerSecond() * x
		}
		return r.From.PerSecond()*x + (r.To.PerSecond()-r.From.PerSecond())*x*x/(2*phase.Seconds())
	case "sine":
		if r.Period <= 0 {
			return math.Max(0, r.Mean.PerSecond()) * x
		}
		p := r.Period.D().Seconds()
		return r.Mean.PerSecond()*x + r.Amplitude.PerSecond()*p/(2*math.Pi)*(1-math.Cos(2*math.Pi*x/p))
	default:
		return r.Rate.PerSecond() * x
	}
}
