package sweep

import (
	"fmt"
	"math"
	"slices"
	"time"

	"brownout/contract"
	"brownout/recording"
	"brownout/reports"
	"brownout/scenarios"
)

// Metrics derived by the sweep from a cell's recording, beyond the
// whole-run metrics of reports.
const (
	// Availability is 1 − unavailable_ratio over the whole run: the share
	// of requests that got an answer other than the assistant's 503.
	Availability = "availability"
	// TimeToCloseRecovery is how long users stay on fallbacks after the
	// upstream is back: from the start of the recovery phase to the first
	// transition into closed during it, 0 when the breaker is already
	// closed when that phase starts, "never" when it does not close in
	// it. The recovery phase is the first phase after the last phase that
	// injects faults; when no such phase exists (no faults, or faults up
	// to the end), it is the last phase with a transition into closed, or
	// else the last phase.
	TimeToCloseRecovery = "time_to_close_recovery"
	// HalfOpenProbes counts transitions into half-open over the whole run:
	// each is one probe of the upstream after a reset timeout.
	HalfOpenProbes = "half_open_probes"
	// FailuresBeforeTrip counts the failed upstream calls that arrived
	// before the first transition into open: the failing load the breaker
	// let through before it tripped (all failed calls if it never did).
	FailuresBeforeTrip = "failures_before_trip"
)

// MetricNames lists every metric of a sweep row, in the order sweep.csv and
// sweep.json write them: the sweep's own, then every whole-run metric of
// reports.
var MetricNames = append([]string{Availability, TimeToCloseRecovery, HalfOpenProbes, FailuresBeforeTrip}, reports.MetricNames...)

// unitOf is the unit of a metric of MetricNames.
func unitOf(metric string) scenarios.Unit {
	switch metric {
	case Availability:
		return scenarios.UnitRatio
	case TimeToCloseRecovery:
		return scenarios.UnitDuration
	case HalfOpenProbes, FailuresBeforeTrip:
		return scenarios.UnitCount
	}
	return scenarios.Metrics[metric]
}

// HigherIsBetter reports the direction of a metric when the sweep ranks
// cells: higher is better for availability and the answered-request
// ratios (success, upstream, fallback, cache, excerpts) and for
// throughput (requests, rps); lower is better for everything else —
// latencies, times, failures, calls, unavailable and error ratios,
// breaker activity.
func HigherIsBetter(metric string) bool {
	switch metric {
	case Availability, "success_ratio", "upstream_ratio", "fallback_ratio", "cache_ratio", "excerpts_ratio", "requests", "rps":
		return true
	}
	return false
}

// KnownMetric reports whether metric is a column of the sweep.
func KnownMetric(metric string) bool { return slices.Contains(MetricNames, metric) }

// Value is one metric of one run: V in the metric's base unit (seconds,
// fraction, count, per second), NaN when nothing was measured. Never marks
// an event that did not happen (time_to_open, time_to_close).
type Value struct {
	V     float64
	Never bool
}

// runValues computes every metric of MetricNames for one run: the overall
// metrics from the rendered summary, the sweep's own from the recording
// in dir and the scenario sc that was played.
func runValues(dir string, sc *scenarios.Scenario, sum *reports.Summary) ([]Value, error) {
	out := make([]Value, len(MetricNames))
	byName := map[string]*Value{}
	for i, m := range MetricNames {
		out[i] = Value{V: math.NaN()}
		byName[m] = &out[i]
	}
	for _, mv := range sum.Overall {
		if v, ok := byName[mv.Name]; ok {
			*v = Value{V: mv.Value, Never: mv.Never}
			if mv.Never || mv.NoData {
				v.V = math.NaN()
			}
		}
	}
	if u := byName["unavailable_ratio"]; !math.IsNaN(u.V) {
		byName[Availability].V = 1 - u.V
	}
	h, err := recording.ReadHeader(dir)
	if err != nil {
		return nil, err
	}
	trs, err := recording.ReadTransitions(dir)
	if err != nil {
		return nil, err
	}
	*byName[TimeToCloseRecovery] = timeToCloseRecovery(sc, h.Phases, trs)

	probes := 0
	firstOpen := time.Duration(math.MaxInt64)
	for _, tr := range trs {
		if tr.To == contract.StateHalfOpen {
			probes++
		}
		if tr.To == contract.StateOpen && tr.T < firstOpen {
			firstOpen = tr.T
		}
	}
	byName[HalfOpenProbes].V = float64(probes)
	failed := 0
	err = recording.EachUpstreamCall(dir, func(c *recording.UpstreamCall) error {
		if c.T < firstOpen && c.Failed() {
			failed++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	byName[FailuresBeforeTrip].V = float64(failed)
	return out, nil
}

// timeToCloseRecovery implements [TimeToCloseRecovery].
func timeToCloseRecovery(sc *scenarios.Scenario, phases []recording.PhaseSpan, trs []recording.Transition) Value {
	if len(phases) == 0 {
		return Value{V: math.NaN()}
	}
	rec := -1
	lastFaulty := -1
	for i, p := range sc.Phases {
		if len(p.Faults) > 0 {
			lastFaulty = i
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
		return Value{V: 0}
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
			return Value{V: (tr.T - p.Start).Seconds()}
		}
	}
	return Value{V: math.NaN(), Never: true}
}

// Stat aggregates one metric over a cell's seeds: the mean, minimum and
// maximum over the runs that measured it (N of them), and how many runs
// saw a Never. A cell with any Never reports Never: a breaker that failed
// to close for one seed is not averaged away.
type Stat struct {
	Mean, Min, Max float64
	N              int
	Never          int
}

// aggregate folds the runs' values of metric index i.
func aggregate(vals [][]Value, i int) Stat {
	st := Stat{Mean: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	sum := 0.0
	for _, vs := range vals {
		v := vs[i]
		switch {
		case v.Never:
			st.Never++
		case math.IsNaN(v.V):
		default:
			if st.N == 0 || v.V < st.Min {
				st.Min = v.V
			}
			if st.N == 0 || v.V > st.Max {
				st.Max = v.V
			}
			st.N++
			sum += v.V
		}
	}
	if st.N > 0 {
		st.Mean = sum / float64(st.N)
	}
	return st
}

// rankValue is the value a cell is ranked by: the mean, or the worst
// possible value when the event never happened or nothing was measured.
func (s Stat) rankValue(higherIsBetter bool) float64 {
	if s.Never > 0 || math.IsNaN(s.Mean) {
		if higherIsBetter {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	return s.Mean
}

// FormatValue renders a metric's value for people, the way the run
// reports do (reports.FormatValue), in the metric's unit.
func FormatValue(metric string, v float64) string {
	return reports.FormatValue(unitOf(metric), v)
}

// formatStat renders an aggregate: "never" when any run never saw the
// event, else the mean.
func formatStat(metric string, s Stat) string {
	if s.Never > 0 {
		if s.N > 0 {
			return fmt.Sprintf("never (%d of %d)", s.Never, s.Never+s.N)
		}
		return "never"
	}
	return FormatValue(metric, s.Mean)
}
