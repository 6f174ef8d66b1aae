package reports

import (
	"math"
	"strconv"
	"strings"
	"time"

	"brownout/scenarios"
)

// Verdict is the outcome of one condition of one threshold on a recording.
type Verdict struct {
	// Threshold is the threshold the condition belongs to.
	Threshold scenarios.Threshold
	// Condition is the condition judged.
	Condition scenarios.Condition
	// Observed is the metric's value in its base unit (seconds, fraction,
	// count, per second); NaN when Never or NoData.
	Observed float64
	// Never is set for an event metric (time_to_open, time_to_close) whose
	// event did not happen; it fails < and <= and passes > and >=.
	Never bool
	// NoData is set when the filter selected nothing to measure, e.g. a
	// latency over zero requests; such a condition fails, since nothing
	// shows it holds.
	NoData bool
	// Err explains a threshold that does not fit the recording (a phase the
	// run does not have, a filter the metric does not take); it fails.
	Err string
	// Passed reports whether the condition holds.
	Passed bool
	// Display is the observed value with its unit, e.g. "87.5 ms", "99.2%",
	// "never", "no data".
	Display string
}

// Name is the threshold and condition as one line, e.g.
// "latency_p99{phase:outage} < 100ms".
func (v Verdict) Name() string {
	return v.Threshold.Key + " " + v.Condition.String()
}

// Evaluate judges every condition of every threshold on the recording, in
// order. A condition with a window filter is judged on its worst window:
// for < and <= the window with the largest value, for > and >= the one
// with the smallest, for == the farthest from the value and for != the
// closest, so a threshold passes only if it holds in every window.
func Evaluate(r *Recording, ths []scenarios.Threshold) []Verdict {
	var out []Verdict
	for _, th := range ths {
		unit := scenarios.Metrics[th.Metric]
		for _, c := range th.Conditions {
			v := Verdict{Threshold: th, Condition: c}
			obs, ok, err := r.metric(th, c)
			switch {
			case err != nil:
				v.Err = err.Error()
				v.Observed = math.NaN()
				v.Display = "error"
			case !ok:
				v.Never = true
				v.Observed = math.NaN()
				v.Passed = c.Holds(math.Inf(1))
				v.Display = "never"
			case math.IsNaN(obs):
				v.NoData = true
				v.Observed = obs
				v.Display = "no data"
			default:
				v.Observed = obs
				v.Passed = c.Holds(obs)
				v.Display = FormatValue(unit, obs)
				if res := r.TransitionResolution(); res > 0 && (th.Metric == "time_to_open" || th.Metric == "time_to_close") {
					// Seen from outside: the event happened in (obs-res, obs].
					v.Display = FormatValue(unit, max(0, obs-res.Seconds())) + "–" + v.Display
				}
			}
			out = append(out, v)
		}
	}
	return out
}

// observed is the observed value as the report tables show it: the
// display form, or the error that kept the threshold from being judged.
func (v Verdict) observed() string {
	if v.Err != "" {
		return "error: " + v.Err
	}
	return v.Display
}

// allPassed reports whether every verdict passed.
func allPassed(vs []Verdict) bool {
	for _, v := range vs {
		if !v.Passed {
			return false
		}
	}
	return true
}

// FormatValue renders a value in a metric's base unit for people: durations
// in µs, ms, s, min or h with three significant digits, ratios as
// percentages, rates per second, counts as integers. +Inf, the value of an
// event that never happened (time_to_open), renders as "never", and NaN,
// a metric with nothing to measure, as "no data". Every report and sweep
// output formats values with it, so a figure reads the same everywhere.
func FormatValue(u scenarios.Unit, v float64) string {
	if math.IsNaN(v) {
		return "no data"
	}
	if math.IsInf(v, 1) {
		return "never"
	}
	switch u {
	case scenarios.UnitDuration:
		return formatSeconds(v)
	case scenarios.UnitRatio:
		return formatPercent(v)
	case scenarios.UnitRate:
		return trimFloat(v, 1) + "/s"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return trimFloat(v, 2)
}

// formatSeconds renders a duration given in seconds.
func formatSeconds(s float64) string {
	a := math.Abs(s)
	switch {
	case a == 0:
		return "0 s"
	case a < 1e-3:
		return sig3(s*1e6) + " µs"
	case a < 1:
		return sig3(s*1e3) + " ms"
	case a < 120:
		return sig3(s) + " s"
	case a < 7200:
		return sig3(s/60) + " min"
	}
	return sig3(s/3600) + " h"
}

// formatPercent renders a fraction as a percentage with one decimal, using
// more decimals when rounding would show 0% or 100% for a value that is
// neither.
func formatPercent(f float64) string {
	p := f * 100
	for digits := 1; digits <= 4; digits++ {
		s := strconv.FormatFloat(p, 'f', digits, 64)
		r, _ := strconv.ParseFloat(s, 64)
		if (r == 100 && f != 1) || (r == 0 && f != 0) {
			continue
		}
		return trimZeros(s) + "%"
	}
	return strconv.FormatFloat(p, 'g', 6, 64) + "%"
}

// sig3 formats with three significant digits, without exponent or
// trailing zeros.
func sig3(v float64) string {
	a := math.Abs(v)
	digits := 0
	switch {
	case a < 10:
		digits = 2
	case a < 100:
		digits = 1
	}
	return trimFloat(v, digits)
}

func trimFloat(v float64, digits int) string {
	return trimZeros(strconv.FormatFloat(v, 'f', digits, 64))
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// TransitionResolution is how precisely the recording knows when its
// breaker changed state: zero when the transitions are exact (the built-in
// assistant in process), else the widest interval within which one was
// seen from outside (polled or inferred), in scenario time.
func (r *Recording) TransitionResolution() time.Duration {
	var res time.Duration
	for _, tr := range r.transitions {
		res = max(res, tr.Resolution)
	}
	return res
}
