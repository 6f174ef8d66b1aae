package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"brownout/contract"
	"brownout/limits"
)

// Unit is the kind of quantity a metric measures; it decides which units a
// threshold value may carry and the base unit it is converted to.
type Unit int

// The units of [Metrics].
const (
	// UnitCount is a plain number of events: no unit allowed.
	UnitCount Unit = iota + 1
	// UnitRatio is a fraction: "0.95" or "95%"; base unit: fraction.
	UnitRatio
	// UnitDuration is a time: "100ms", "2s"; base unit: seconds.
	UnitDuration
	// UnitRate is events per second: "20", "20/s" or "600/m"; base unit: per second.
	UnitRate
)

// String names the unit for messages.
func (u Unit) String() string {
	switch u {
	case UnitCount:
		return "count"
	case UnitRatio:
		return "ratio"
	case UnitDuration:
		return "duration"
	case UnitRate:
		return "rate"
	}
	return fmt.Sprintf("Unit(%d)", int(u))
}

// Format renders v, given in the unit's base unit, the way a threshold
// would be written: "120ms", "95%", "42", "12.5/s". +Inf (a time_to_open
// that never happened) renders as "never".
func (u Unit) Format(v float64) string {
	if math.IsInf(v, 1) {
		return "never"
	}
	switch u {
	case UnitRatio:
		return strconv.FormatFloat(v*100, 'g', 6, 64) + "%"
	case UnitDuration:
		return time.Duration(math.Round(v * float64(time.Second))).String()
	case UnitRate:
		return strconv.FormatFloat(v, 'g', 6, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Filter keys a threshold key may carry.
const (
	FilterPhase   = "phase"
	FilterBreaker = "breaker"
	FilterOutcome = "outcome"
	FilterWindow  = "window"
	FilterReplica = "replica"
)

// FilterKeys lists the filter keys in the order they are documented.
var FilterKeys = []string{FilterPhase, FilterBreaker, FilterOutcome, FilterWindow, FilterReplica}

// BreakerStates are the values of the breaker filter.
var BreakerStates = contractNames(contract.States)

// Outcomes are the values of the outcome filter: how a request was answered.
var Outcomes = contractNames(contract.Outcomes)

// contractNames spells the contract's words as the strings a scenario file
// holds.
func contractNames[T ~string](words []T) []string {
	s := make([]string, len(words))
	for i, w := range words {
		s[i] = string(w)
	}
	return s
}

// Operators are the comparison operators of a condition.
var Operators = []string{"<", "<=", ">", ">=", "==", "!="}

// Threshold is one key of a scenario's thresholds: a metric, optionally
// narrowed by filters, and the conditions its observed value must meet.
type Threshold struct {
	// Key is the key as written, e.g. `latency_p99{phase:outage}`.
	Key string
	// Metric is one of [Metrics].
	Metric string
	// Filters narrow the requests, calls or time the metric is computed over.
	Filters Filters
	// Conditions must all hold.
	Conditions []Condition
}

// Filters narrow a metric; a zero field is not set.
type Filters struct {
	// Phase restricts the metric to one phase.
	Phase string
	// Breaker restricts it to requests answered (or upstream calls made)
	// while the breaker was in this state: closed, open or half-open.
	Breaker string
	// Outcome restricts a request metric to one outcome class.
	Outcome string
	// Window asks for the worst value over any sliding window of this length.
	Window time.Duration
	// Replica restricts the metric to one assistant replica, from 1 as in
	// the breaker names NAME/rK: the requests sent to it, the upstream
	// calls it made, its breaker's transitions. Zero is not set.
	Replica int
}

// Condition is one comparison, such as "< 100ms".
type Condition struct {
	// Op is one of < <= > >= == !=.
	Op string
	// Value is in the metric's base unit: seconds for durations, a fraction
	// for ratios ("1%" is 0.01), a plain number for counts and rates.
	Value float64
	// Raw is the condition as written.
	Raw string
}

// Holds reports whether observed, in the metric's base unit, meets the
// condition. == and != allow a relative tolerance of 1e-9 so that ratios
// computed in floating point compare as expected. Pass +Inf for an event
// that never happened (it fails < and <=); NaN meets no condition.
func (c Condition) Holds(observed float64) bool {
	if math.IsNaN(observed) {
		return false
	}
	eq := observed == c.Value
	if !math.IsInf(observed, 0) && !math.IsInf(c.Value, 0) {
		eq = eq || math.Abs(observed-c.Value) <= 1e-9*math.Max(math.Abs(observed), math.Abs(c.Value))
	}
	switch c.Op {
	case "<":
		return observed < c.Value && !eq
	case "<=":
		return observed <= c.Value || eq
	case ">":
		return observed > c.Value && !eq
	case ">=":
		return observed >= c.Value || eq
	case "==":
		return eq
	case "!=":
		return !eq
	}
	return false
}

// String returns the condition as written, or a canonical form when it was
// built in code.
func (c Condition) String() string {
	if c.Raw != "" {
		return c.Raw
	}
	return c.Op + " " + strconv.FormatFloat(c.Value, 'g', -1, 64)
}

// ParseThreshold parses a threshold key such as `latency_p99{phase:outage}`
// and its conditions such as "< 100ms". It cannot check that a phase filter
// names an existing phase; Parse and Validate do.
func ParseThreshold(key string, conditions []string) (Threshold, error) {
	th, err := parseThresholdKey(key)
	if err != nil {
		return Threshold{}, fmt.Errorf("threshold %q: %w", key, err)
	}
	if len(conditions) == 0 {
		return Threshold{}, fmt.Errorf("threshold %q: no condition; write e.g. [\"< 100ms\"]", key)
	}
	var errs []error
	for _, raw := range conditions {
		c, err := parseCondition(raw, Metrics[th.Metric])
		if err != nil {
			errs = append(errs, fmt.Errorf("threshold %q: %w", key, err))
			continue
		}
		th.Conditions = append(th.Conditions, c)
	}
	if err := errors.Join(errs...); err != nil {
		return Threshold{}, err
	}
	return th, nil
}

// metricNames returns the names of Metrics, sorted, for messages.
func metricNames() []string {
	return slices.Sorted(maps.Keys(Metrics))
}

// isLatency reports whether the metric is a request latency, the only
// metrics an outcome filter applies to.
func isLatency(metric string) bool { return strings.HasPrefix(metric, "latency_") }

// isLoadMetric reports whether the metric compares the load sent with the
// rate asked for, which is the whole run's, not one replica's.
func isLoadMetric(metric string) bool {
	return metric == "target_rps" || metric == "achieved_rate_ratio"
}

// isBreakerMetric reports whether the metric is about breaker transitions,
// which a breaker filter cannot narrow.
func isBreakerMetric(metric string) bool {
	switch metric {
	case "breaker_opens", "breaker_transitions", "open_time_ratio", "time_to_open", "time_to_close":
		return true
	}
	return false
}

// parseThresholdKey parses `metric` or `metric{key:value,...}`.
func parseThresholdKey(key string) (Threshold, error) {
	th := Threshold{Key: key}
	s := strings.TrimSpace(key)
	name, rest, hasFilters := strings.Cut(s, "{")
	name = strings.TrimSpace(name)
	if name == "" {
		return th, fmt.Errorf("no metric name; write e.g. latency_p99{phase:outage}")
	}
	if _, ok := Metrics[name]; !ok {
		return th, fmt.Errorf("unknown metric %q%s (valid: %s)", name, didYouMean(name, metricNames()), quoteList(metricNames()))
	}
	th.Metric = name
	if !hasFilters {
		if strings.ContainsAny(name, "}:, ") {
			return th, fmt.Errorf("malformed key; write metric{filter:value,...}")
		}
		return th, nil
	}
	body, ok := strings.CutSuffix(rest, "}")
	if !ok || strings.ContainsAny(body, "{}") {
		return th, fmt.Errorf("malformed filters %q: write {filter:value,...} with one closing brace at the end", "{"+rest)
	}
	if strings.TrimSpace(body) == "" {
		return th, fmt.Errorf("empty filter braces; drop them or write e.g. {phase:outage}")
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(body, ",") {
		k, v, ok := strings.Cut(part, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return th, fmt.Errorf("malformed filter %q: write key:value with key one of %s", strings.TrimSpace(part), quoteList(FilterKeys))
		}
		if seen[k] {
			return th, fmt.Errorf("filter %q given twice", k)
		}
		seen[k] = true
		switch k {
		case FilterPhase:
			th.Filters.Phase = v
		case FilterBreaker:
			if isBreakerMetric(name) {
				return th, fmt.Errorf("filter breaker does not apply to %s, a metric of the breaker itself", name)
			}
			if !slices.Contains(BreakerStates, v) {
				return th, fmt.Errorf("breaker state %q is not valid%s (valid: %s)", v, didYouMean(v, BreakerStates), quoteList(BreakerStates))
			}
			th.Filters.Breaker = v
		case FilterOutcome:
			if !isLatency(name) {
				return th, fmt.Errorf("filter outcome applies only to latency metrics, not %s", name)
			}
			if !slices.Contains(Outcomes, v) {
				return th, fmt.Errorf("outcome %q is not valid%s (valid: %s)", v, didYouMean(v, Outcomes), quoteList(Outcomes))
			}
			th.Filters.Outcome = v
		case FilterWindow:
			if name == "time_to_open" || name == "time_to_close" {
				return th, fmt.Errorf("filter window does not apply to %s", name)
			}
			d, err := ParseDuration(v)
			if err != nil {
				return th, fmt.Errorf("window: %w", err)
			}
			if d <= 0 {
				return th, fmt.Errorf("window %s must be positive", v)
			}
			th.Filters.Window = d.D()
		case FilterReplica:
			if isLoadMetric(name) {
				return th, fmt.Errorf("filter replica does not apply to %s, which compares the load sent with the rate asked for", name)
			}
			k, err := strconv.Atoi(v)
			if err != nil || k < 1 || k > limits.MaxReplicas {
				return th, fmt.Errorf("replica %q is not valid: write the replica's number, 1 to %d (as in the breaker names NAME/r1...)", v, limits.MaxReplicas)
			}
			th.Filters.Replica = k
		default:
			return th, fmt.Errorf("unknown filter %q%s (valid: %s)", k, didYouMean(k, FilterKeys), quoteList(FilterKeys))
		}
	}
	return th, nil
}

// parseCondition parses "OP VALUE" for a metric of unit u.
func parseCondition(raw string, u Unit) (Condition, error) {
	s := strings.TrimSpace(raw)
	c := Condition{Raw: raw}
	// Longest operators first so that "<=" is not read as "<" "=".
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if rest, ok := strings.CutPrefix(s, op); ok {
			c.Op, s = op, strings.TrimSpace(rest)
			break
		}
	}
	if c.Op == "" {
		return c, fmt.Errorf("condition %q has no operator; write OP VALUE with OP one of %s, e.g. \"< 100ms\"", raw, strings.Join(Operators, " "))
	}
	if s == "" {
		return c, fmt.Errorf("condition %q has no value", raw)
	}
	if strings.ContainsAny(s[:1], "<>=!") {
		return c, fmt.Errorf("condition %q: unknown operator (valid: %s)", raw, strings.Join(Operators, " "))
	}
	v, err := parseValue(s, u)
	if err != nil {
		return c, fmt.Errorf("condition %q: %w", raw, err)
	}
	c.Value = v
	return c, nil
}

// parseValue converts a threshold value to the unit's base unit.
func parseValue(s string, u Unit) (float64, error) {
	plain := func() (float64, error) {
		v, ok := parseFinite(s)
		if !ok {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		return v, nil
	}
	switch u {
	case UnitDuration:
		d, err := ParseDuration(s)
		if err != nil {
			if s == "0" {
				return 0, nil
			}
			return 0, fmt.Errorf("want a duration with a unit for this metric: %w", err)
		}
		return d.D().Seconds(), nil
	case UnitRatio:
		r, err := ParseRatio(s)
		if err != nil {
			return 0, fmt.Errorf("want a ratio for this metric: %w", err)
		}
		if r < 0 || r > 1 {
			return 0, fmt.Errorf("ratio %s is outside [0,1] (0%%..100%%)", s)
		}
		return float64(r), nil
	case UnitRate:
		if strings.Contains(s, "/") {
			r, err := ParseRate(s)
			if err != nil {
				return 0, err
			}
			return float64(r), nil
		}
		if strings.HasSuffix(s, "%") {
			return 0, fmt.Errorf("%q: a rate is requests per second (\"20\" or \"20/s\"), not a percentage", s)
		}
		return plain()
	case UnitCount:
		if strings.HasSuffix(s, "%") {
			return 0, fmt.Errorf("%q: this metric is a count, not a ratio; write a plain number", s)
		}
		if _, err := time.ParseDuration(s); err == nil && s != "0" {
			return 0, fmt.Errorf("%q: this metric is a count, not a duration; write a plain number", s)
		}
		return plain()
	}
	return 0, fmt.Errorf("unknown unit %v", u)
}
