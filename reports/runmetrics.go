package reports

import (
	"fmt"
	"math"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

// RunMetric computes one metric of scenarios.MetricTable over the whole
// run, without filters: any threshold metric, or a run-only one a sweep
// row adds. ok is false when the metric describes an event that never
// happened; the value is NaN when there was nothing to measure.
func (r *Recording) RunMetric(name string) (value float64, ok bool, err error) {
	fam, known := familyOf(name)
	if !known {
		return math.NaN(), false, fmt.Errorf("unknown metric %q", name)
	}
	v, ok := r.value(query{metric: name, family: fam, phase: -1, breaker: -1, outcome: -1}, scenarios.Condition{})
	return v, ok, nil
}

// availability is 1 − unavailable_ratio over the whole run.
func availability(r *Recording) (float64, bool) {
	u := outcomeRatio(ocUnavailable).request(r.aggregate(query{phase: -1, breaker: -1, outcome: -1}, nil, noSample), 0)
	return 1 - u, true // NaN (no requests) stays NaN
}

// halfOpenProbes counts transitions into half-open: each is one probe of
// the upstream after a reset timeout.
func halfOpenProbes(r *Recording) (float64, bool) {
	n := 0
	for _, tr := range r.transitions {
		if tr.To == contract.StateHalfOpen {
			n++
		}
	}
	return float64(n), true
}

// failuresBeforeTrip counts the failed upstream calls that arrived before
// the first transition into open: the failing load the breaker let
// through before it tripped (all failed calls if it never did).
func failuresBeforeTrip(r *Recording) (float64, bool) {
	firstOpen := int64(math.MaxInt64)
	for _, tr := range r.transitions {
		if tr.To == contract.StateOpen && int64(tr.T) < firstOpen {
			firstOpen = int64(tr.T)
		}
	}
	n := 0
	for i := range r.calls {
		if c := &r.calls[i]; c.t < firstOpen && c.failed {
			n++
		}
	}
	return float64(n), true
}

// failuresBeforeAllOpen counts the failed upstream calls that arrived
// before every breaker of the run (Header.Breakers: with replicas, one per
// replica) had opened at least once: what an outage costs the upstream
// before the whole fleet protects it. False (never) when a breaker never
// opened.
func failuresBeforeAllOpen(r *Recording) (float64, bool) {
	names := r.Header.Breakers
	if len(names) == 0 {
		return math.NaN(), false
	}
	firstOpen := make(map[string]int64, len(names))
	for _, tr := range r.transitions {
		if _, seen := firstOpen[tr.Breaker]; !seen && tr.To == contract.StateOpen {
			firstOpen[tr.Breaker] = int64(tr.T)
		}
	}
	allOpen := int64(0)
	for _, n := range names {
		t, ok := firstOpen[n]
		if !ok {
			return math.NaN(), false
		}
		allOpen = max(allOpen, t)
	}
	n := 0
	for i := range r.calls {
		if c := &r.calls[i]; c.t <= allOpen && c.failed {
			n++
		}
	}
	return float64(n), true
}

// timeToCloseRecovery is how long users stay on fallbacks after the
// upstream is back: from the start of the recovery phase to the first
// transition into closed during it, 0 when the breaker is already closed
// when that phase starts, "never" (false) when it does not close in it.
// The recovery phase is the first phase after the last phase of sc that
// injects faults; when no such phase exists (no faults, or faults up to
// the end), it is the last phase with a transition into closed, or else
// the last phase.
func timeToCloseRecovery(sc *scenarios.Scenario, phases []recording.PhaseSpan, trs []recording.Transition) (float64, bool) {
	if len(phases) == 0 {
		return math.NaN(), true
	}
	rec := -1
	lastFaulty := -1
	if sc != nil {
		for i, p := range sc.Phases {
			if len(p.Faults) > 0 {
				lastFaulty = i
			}
		}
	}
	if lastFaulty >= 0 && lastFaulty+1 < len(phases) {
		rec = lastFaulty + 1
	} else {
		for i := len(phases) - 1; i >= 0 && rec < 0; i-- {
			for _, tr := range trs {
				if tr.To == contract.StateClosed && tr.T >= phases[i].Start && tr.T < phases[i].End {
					rec = i
					break
				}
			}
		}
		if rec < 0 {
			rec = len(phases) - 1
		}
	}
	p := phases[rec]
	// The state at the phase's start, per breaker: a run with several
	// breakers (per-endpoint scope) is closed when all of them are.
	state := map[string]contract.State{}
	for _, tr := range trs {
		if tr.T <= p.Start {
			state[tr.Breaker] = tr.To
		}
	}
	open := map[string]bool{}
	for b, s := range state {
		if s != contract.StateClosed {
			open[b] = true
		}
	}
	if len(open) == 0 {
		return 0, true
	}
	for _, tr := range trs {
		if tr.T <= p.Start || tr.T >= p.End {
			continue
		}
		if tr.To == contract.StateClosed {
			delete(open, tr.Breaker)
		} else {
			open[tr.Breaker] = true
		}
		if len(open) == 0 {
			return (tr.T - p.Start).Seconds(), true
		}
	}
	return math.NaN(), false
}
