package scenarios

// MetricInfo describes one metric: its name, unit, which way is better and
// how it is computed. Thresholds check names and units against it, reports
// compute each metric by name and print them in table order, and a sweep
// ranks cells in each metric's direction.
type MetricInfo struct {
	// Name is how thresholds, summary.json and sweep columns spell it.
	Name string
	// Unit decides how threshold values are written and values printed.
	Unit Unit
	// HigherIsBetter gives the direction a sweep ranks cells in and its
	// heatmaps colour; false means lower is better.
	HigherIsBetter bool
	// Scope says where the metric applies: any filter and the per-phase
	// summary, the whole run only, or a sweep row only.
	Scope Scope
	// Doc says how the metric is computed, in one sentence.
	Doc string
}

// Scope is where a metric applies.
type Scope int

// The scopes of a metric.
const (
	// ScopeFiltered metrics take filters (phase, breaker, outcome, window, replica
	// as their records allow) and are listed overall and per phase in the
	// summary.
	ScopeFiltered Scope = iota
	// ScopeRun metrics describe the whole run: a threshold may name them,
	// without filters.
	ScopeRun
	// ScopeSweep metrics are whole-run figures a sweep row adds; no
	// threshold names them.
	ScopeSweep
)

// MetricTable is every metric brownout computes, in the order reports print
// them. Adding a metric is an entry here and its computation in package
// reports (a test there fails until both exist).
var MetricTable = []MetricInfo{
	{Name: "requests", Unit: UnitCount, HigherIsBetter: true, Doc: "number of selected requests"},
	{Name: "rps", Unit: UnitRate, HigherIsBetter: true, Doc: "requests ÷ the span of scenario time the filter covers"},
	{Name: "success_ratio", Unit: UnitRatio, HigherIsBetter: true, Doc: "share answered 200 from any source: outcome upstream, l1_cache or excerpts"},
	{Name: "upstream_ratio", Unit: UnitRatio, HigherIsBetter: true, Doc: "share with outcome upstream (answered by the model)"},
	{Name: "fallback_ratio", Unit: UnitRatio, HigherIsBetter: true, Doc: "share with outcome l1_cache or excerpts"},
	{Name: "cache_ratio", Unit: UnitRatio, HigherIsBetter: true, Doc: "share with outcome l1_cache"},
	{Name: "excerpts_ratio", Unit: UnitRatio, HigherIsBetter: true, Doc: "share with outcome excerpts"},
	{Name: "unavailable_ratio", Unit: UnitRatio, Doc: "share with outcome unavailable (the assistant's 503)"},
	{Name: "error_ratio", Unit: UnitRatio, Doc: "share with outcome error or bad_response"},
	{Name: "latency_p50", Unit: UnitDuration, Doc: "nearest-rank 50th percentile of the latencies"},
	{Name: "latency_p90", Unit: UnitDuration, Doc: "nearest-rank 90th percentile of the latencies"},
	{Name: "latency_p95", Unit: UnitDuration, Doc: "nearest-rank 95th percentile of the latencies"},
	{Name: "latency_p99", Unit: UnitDuration, Doc: "nearest-rank 99th percentile of the latencies"},
	{Name: "latency_p999", Unit: UnitDuration, Doc: "nearest-rank 99.9th percentile of the latencies"},
	{Name: "latency_max", Unit: UnitDuration, Doc: "largest latency"},
	{Name: "latency_mean", Unit: UnitDuration, Doc: "arithmetic mean latency"},
	{Name: "upstream_calls", Unit: UnitCount, Doc: "calls the fake upstream received"},
	{Name: "upstream_failures", Unit: UnitCount, Doc: "calls that failed: a fault was injected, or the status was not 2xx"},
	{Name: "breaker_opens", Unit: UnitCount, Doc: "transitions into open (of any breaker)"},
	{Name: "breaker_transitions", Unit: UnitCount, Doc: "all transitions"},
	{Name: "open_time_ratio", Unit: UnitRatio, Doc: "time during which at least one breaker was open ÷ the span"},
	{Name: "time_to_open", Unit: UnitDuration, Doc: "from the start of the phase (or run) to the first transition into open in it"},
	{Name: "time_to_close", Unit: UnitDuration, Doc: "from the start of the phase (or run) to the first transition into closed in it"},
	{Name: "target_rps", Unit: UnitRate, HigherIsBetter: true, Doc: "requests the rate patterns ask for over the span ÷ the span"},
	{Name: "achieved_rate_ratio", Unit: UnitRatio, HigherIsBetter: true,
		Doc: "requests sent in the span ÷ requests the rate pattern asked for in it; without a phase or window, the lowest ratio of any phase"},
	{Name: "send_lag_p99", Unit: UnitDuration, Doc: "nearest-rank 99th percentile of how late requests were sent (actual − intended send time)"},
	{Name: "send_lag_max", Unit: UnitDuration, Doc: "the latest any request was sent after its intended send time"},
	{Name: "response_time_p50", Unit: UnitDuration, Doc: "nearest-rank 50th percentile of send lag + latency: latency from the intended send time"},
	{Name: "response_time_p90", Unit: UnitDuration, Doc: "nearest-rank 90th percentile of send lag + latency"},
	{Name: "response_time_p99", Unit: UnitDuration, Doc: "nearest-rank 99th percentile of send lag + latency"},
	{Name: "response_time_max", Unit: UnitDuration, Doc: "largest send lag + latency"},

	{Name: "distorted", Unit: UnitCount, Scope: ScopeRun, Doc: "1 when the machine did not keep up with the time scale (recording.Distortion), else 0"},
	{Name: "contention_timeouts", Unit: UnitCount, Scope: ScopeRun, Doc: "upstream calls that hit the call timeout although their planned delay was shorter"},
	{Name: "upstream_slowdown", Unit: UnitRatio, Scope: ScopeRun, Doc: "how much longer completed upstream calls look in scenario time than the fake planned them"},
	{Name: "timer_lateness_p99", Unit: UnitDuration, Scope: ScopeRun, Doc: "99th percentile of how late a probe timer fired, in scenario time"},
	{Name: "local_work_shift", Unit: UnitDuration, Scope: ScopeRun, Doc: "what the service's own work (p99 of answers made without an upstream call) weighs in scenario time beyond time scale 1: (K−1) × its real time"},
	{Name: "breaker_lateness_max", Unit: UnitDuration, Scope: ScopeRun, Doc: "how late, at most, the breaker turned half-open after the first request due past its reset timeout, in scenario time (built-in assistant in process, one replica; else 0)"},
	{Name: "failures_before_all_open", Unit: UnitCount, Scope: ScopeRun, Doc: "failed upstream calls that arrived before every breaker of the run (each replica's) had opened once; never when one did not open"},

	{Name: "availability", Unit: UnitRatio, HigherIsBetter: true, Scope: ScopeSweep,
		Doc: "1 − unavailable_ratio over the whole run"},
	{Name: "time_to_close_recovery", Unit: UnitDuration, Scope: ScopeSweep,
		Doc: "from the start of the recovery phase (the first after the last phase that injects faults) to the first transition into closed during it"},
	{Name: "half_open_probes", Unit: UnitCount, Scope: ScopeSweep,
		Doc: "transitions into half-open over the whole run"},
	{Name: "failures_before_trip", Unit: UnitCount, Scope: ScopeSweep,
		Doc: "failed upstream calls that arrived before the breaker first opened"},
}

// LookupMetric returns the table entry of the named metric.
func LookupMetric(name string) (MetricInfo, bool) {
	for _, m := range MetricTable {
		if m.Name == name {
			return m, true
		}
	}
	return MetricInfo{}, false
}

// MetricNamesOf lists the names of MetricTable's entries of scope s, in
// table order: the order reports and sweep rows print them.
func MetricNamesOf(s Scope) []string {
	var names []string
	for _, m := range MetricTable {
		if m.Scope == s {
			names = append(names, m.Name)
		}
	}
	return names
}

// Metrics is every metric a threshold may name, with its unit: the entries
// of [MetricTable] outside ScopeSweep.
var Metrics = thresholdMetrics()

func thresholdMetrics() map[string]Unit {
	m := make(map[string]Unit, len(MetricTable))
	for _, mi := range MetricTable {
		if mi.Scope != ScopeSweep {
			m[mi.Name] = mi.Unit
		}
	}
	return m
}
