package sweep

import (
	"fmt"
	"math"
	"slices"

	"brownout/reports"
	"brownout/scenarios"
)

// Names of the run-only metrics of scenarios.MetricTable that a sweep row
// adds to the whole-run metrics of reports; reports computes them and the
// table documents them.
const (
	// Availability is 1 − unavailable_ratio over the whole run.
	Availability = "availability"
	// TimeToCloseRecovery is how long users stay on fallbacks after the
	// upstream is back (see scenarios.MetricTable).
	TimeToCloseRecovery = "time_to_close_recovery"
	// HalfOpenProbes counts transitions into half-open over the whole run.
	HalfOpenProbes = "half_open_probes"
	// FailuresBeforeTrip counts the failed upstream calls that arrived
	// before the first transition into open.
	FailuresBeforeTrip = "failures_before_trip"
)

// MetricNames lists every metric of a sweep row, in the order sweep.csv and
// sweep.json write them: the ScopeSweep metrics of scenarios.MetricTable,
// then every whole-run metric of reports.
var MetricNames = append(scenarios.MetricNamesOf(scenarios.ScopeSweep), reports.MetricNames...)

// unitOf is the unit of a metric of MetricNames.
func unitOf(metric string) scenarios.Unit {
	m, _ := scenarios.LookupMetric(metric)
	return m.Unit
}

// HigherIsBetter reports the direction of a metric when the sweep ranks
// cells, from scenarios.MetricTable.
func HigherIsBetter(metric string) bool {
	m, _ := scenarios.LookupMetric(metric)
	return m.HigherIsBetter
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

// runValues computes every metric of MetricNames for one run from the
// recording reports loaded to render it.
func runValues(r *reports.Recording) ([]Value, error) {
	out := make([]Value, len(MetricNames))
	for i, m := range MetricNames {
		v, ok, err := r.RunMetric(m)
		if err != nil {
			return nil, err
		}
		out[i] = Value{V: v, Never: !ok}
		if !ok {
			out[i].V = math.NaN()
		}
	}
	return out, nil
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
