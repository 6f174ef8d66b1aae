package reports

import (
	"fmt"
	"math"
	"time"
)

// ShortfallTolerance is how far below the rate asked for a run (or one of
// its phases) may send before the report flags it as short: the load
// generator ran out of workers and queued requests, so the latencies it
// measured from each delayed send understate what users would have seen.
const ShortfallTolerance = 0.05

// targetIn is the number of requests the scenario's rate patterns ask for
// in s (scenario time), or NaN when the recording does not say (no
// scenario, or phases that do not match the header's).
func (r *Recording) targetIn(s span) float64 {
	sc := r.Scenario
	if sc == nil || len(sc.Phases) != len(r.Header.Phases) {
		return math.NaN()
	}
	total := 0.0
	for i, p := range r.Header.Phases {
		lo, hi := max(s.from, int64(p.Start)), min(s.to, int64(p.End))
		if hi <= lo {
			continue
		}
		spec, length := sc.Phases[i].Load.Rate, p.End-p.Start
		total += spec.Requests(length, time.Duration(hi)-p.Start) - spec.Requests(length, time.Duration(lo)-p.Start)
	}
	return total
}

// targetRPS is the rate the scenario asks for over s.
func (r *Recording) targetRPS(_ query, _ *span, s span) float64 {
	if s.len() <= 0 {
		return math.NaN()
	}
	return r.targetIn(s) / (float64(s.len()) / 1e9)
}

// achievedValue is achieved_rate_ratio: requests sent in s over requests
// asked for in s. Without a phase or window it is the lowest ratio of any
// phase, so one starved phase shows: the run's own figure
// (recording.Distortion) when it has one, else computed the same way.
func (r *Recording) achievedValue(q query, w *span, s span) float64 {
	if q.phase >= 0 || w != nil {
		return r.achievedIn(s)
	}
	if d := r.Header.Distortion; d != nil {
		return d.AchievedRateRatio
	}
	worst := math.NaN()
	for i := range r.Header.Phases {
		if v := r.achievedIn(r.span(query{phase: i})); !math.IsNaN(v) && !(v >= worst) {
			worst = v
		}
	}
	return worst
}

// achievedIn is the requests sent in s over the requests asked for in s.
func (r *Recording) achievedIn(s span) float64 {
	target := r.targetIn(s)
	if !(target > 0) {
		return math.NaN()
	}
	lo, hi := r.requestRange(s)
	return float64(hi-lo) / target
}

// Shortfall is a stretch of the run (a phase, or the whole run) in which
// the load generator sent fewer requests than the rate pattern asked for,
// beyond ShortfallTolerance and one request of rounding.
type Shortfall struct {
	// Phase is the phase name, empty for the whole run.
	Phase string `json:"phase,omitempty"`
	// Target and Sent are the requests asked for and sent.
	Target float64 `json:"target_requests"`
	Sent   int     `json:"sent_requests"`
	// Ratio is Sent / Target (achieved_rate_ratio).
	Ratio float64 `json:"achieved_rate_ratio"`
}

// shortfalls lists the phases, then the whole run, that fell short.
func (r *Recording) shortfalls() []Shortfall {
	var out []Shortfall
	check := func(name string, s span) {
		target := r.targetIn(s)
		lo, hi := r.requestRange(s)
		sent := hi - lo
		if target > 0 && float64(sent) < target*(1-ShortfallTolerance)-1 {
			out = append(out, Shortfall{Phase: name, Target: math.Round(target*10) / 10, Sent: sent, Ratio: float64(sent) / target})
		}
	}
	for i, p := range r.Header.Phases {
		check(p.Name, r.span(query{phase: i}))
	}
	check("", r.span(query{phase: -1}))
	return out
}

// warning is the shortfall as one line for the terminal and report.md.
func (s Shortfall) warning() string {
	where := "the run"
	if s.Phase != "" {
		where = fmt.Sprintf("phase %q", s.Phase)
	}
	return fmt.Sprintf("LOAD SHORT in %s: %d requests sent of %.0f asked for (%s): the load generator queued requests, so latency_* understate them; see response_time_* and send_lag_*",
		where, s.Sent, s.Target, formatPercent(s.Ratio))
}
