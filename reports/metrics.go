package reports

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"brownout/contract"
	"brownout/scenarios"
)

// MetricNames lists every metric a threshold can name, in the order the
// summary and the report print them.
var MetricNames = []string{
	"requests", "rps",
	"success_ratio", "upstream_ratio", "fallback_ratio", "cache_ratio", "excerpts_ratio", "unavailable_ratio", "error_ratio",
	"latency_p50", "latency_p90", "latency_p95", "latency_p99", "latency_p999", "latency_max", "latency_mean",
	"upstream_calls", "upstream_failures",
	"breaker_opens", "breaker_transitions", "open_time_ratio", "time_to_open", "time_to_close",
}

// metricFamily groups metrics by the records they read, which decides the
// filters that apply.
type metricFamily int

const (
	famRequest metricFamily = iota
	famUpstream
	famBreaker
	famRun // whole-run figures from run.json, no filters
)

func familyOf(metric string) (metricFamily, bool) {
	switch metric {
	case "upstream_calls", "upstream_failures":
		return famUpstream, true
	case "breaker_opens", "breaker_transitions", "open_time_ratio", "time_to_open", "time_to_close":
		return famBreaker, true
	}
	if _, ok := distortionMetrics[metric]; ok {
		return famRun, true
	}
	if slices.Contains(MetricNames, metric) {
		return famRequest, true
	}
	return 0, false
}

// percentiles in thousandths, for exact integer nearest-rank arithmetic.
var percentileMille = map[string]int64{
	"latency_p50": 500, "latency_p90": 900, "latency_p95": 950, "latency_p99": 990, "latency_p999": 999,
}

// query is a threshold's metric and filters resolved against a recording.
type query struct {
	metric  string
	family  metricFamily
	phase   int // index into Header.Phases, -1 for any
	breaker int // stClosed..stOpen, -1 for any
	outcome int // outcome index, -1 for any
	window  int64
}

// resolve checks a threshold's metric and filters against the recording.
func (r *Recording) resolve(th scenarios.Threshold) (query, error) {
	q := query{metric: th.Metric, phase: -1, breaker: -1, outcome: -1, window: int64(th.Filters.Window)}
	fam, ok := familyOf(th.Metric)
	if !ok {
		return q, fmt.Errorf("unknown metric %q", th.Metric)
	}
	q.family = fam
	if fam == famRun {
		if f := th.Filters; f != (scenarios.Filters{}) {
			return q, fmt.Errorf("%s describes the whole run and takes no filter", th.Metric)
		}
		return q, nil
	}
	if f := th.Filters.Phase; f != "" {
		q.phase = r.phaseIndex(f)
		if q.phase < 0 {
			names := make([]string, len(r.Header.Phases))
			for i, p := range r.Header.Phases {
				names[i] = p.Name
			}
			return q, fmt.Errorf("phase %q is not in this run (phases: %s)", f, strings.Join(names, ", "))
		}
	}
	if f := th.Filters.Breaker; f != "" {
		if fam == famBreaker {
			return q, fmt.Errorf("filter breaker does not apply to %s", th.Metric)
		}
		s := stateIndex(contract.State(f))
		if s == stUnknown {
			return q, fmt.Errorf("breaker state %q is not one of %s", f, joinStates(stateNames))
		}
		q.breaker = int(s)
	}
	if f := th.Filters.Outcome; f != "" {
		if fam != famRequest {
			return q, fmt.Errorf("filter outcome does not apply to %s", th.Metric)
		}
		o, ok := outcomeIndex(contract.Outcome(f))
		if !ok {
			return q, fmt.Errorf("outcome %q is not one of %v", f, contract.Outcomes)
		}
		q.outcome = int(o)
	}
	if q.window < 0 {
		return q, fmt.Errorf("window %v is negative", th.Filters.Window)
	}
	if q.window > 0 && (q.metric == "time_to_open" || q.metric == "time_to_close") {
		return q, fmt.Errorf("filter window does not apply to %s", th.Metric)
	}
	return q, nil
}

// span is the stretch of scenario time the query covers: its phase, or the
// whole run. A phase is cut at the end of the recording, so an interrupted
// run's last phase counts only the time it was recorded.
func (r *Recording) span(q query) span {
	end := int64(r.Duration())
	if q.phase >= 0 {
		p := r.Header.Phases[q.phase]
		s := span{int64(p.Start), int64(p.End)}
		if r.Header.Duration > 0 && s.to > end {
			s.to = end
			s.from = min(s.from, s.to)
		}
		return s
	}
	return span{0, end}
}

// eventSpan is the span used to attribute instantaneous events
// (transitions) to a phase: like Header.PhaseAt, the first phase extends
// back to the beginning and the last one to the end of time.
func (r *Recording) eventSpan(q query) span {
	s := span{math.MinInt64, math.MaxInt64}
	if q.phase < 0 {
		return s
	}
	if q.phase > 0 {
		s.from = int64(r.Header.Phases[q.phase].Start)
	}
	if q.phase < len(r.Header.Phases)-1 {
		s.to = int64(r.Header.Phases[q.phase].End)
	}
	return s
}

// Metric evaluates one threshold's metric with its filters. ok is false
// when the metric describes an event that never happened (time_to_open or
// time_to_close). A window filter takes the worst window in the direction
// of the threshold's first condition (see [Evaluate]). The value is NaN
// when the filter selects nothing to measure (a ratio or latency over no
// requests). err reports a metric or filter that does not fit the
// recording, e.g. a phase it does not have.
func (r *Recording) Metric(th scenarios.Threshold) (value float64, ok bool, err error) {
	var c scenarios.Condition
	if len(th.Conditions) > 0 {
		c = th.Conditions[0]
	}
	return r.metric(th, c)
}

func (r *Recording) metric(th scenarios.Threshold, c scenarios.Condition) (float64, bool, error) {
	q, err := r.resolve(th)
	if err != nil {
		return 0, false, fmt.Errorf("threshold %s: %w", th.Key, err)
	}
	v, ok := r.value(q, c)
	return v, ok, nil
}

// value computes a resolved query; for windows c chooses the worst window.
func (r *Recording) value(q query, c scenarios.Condition) (float64, bool) {
	s := r.span(q)
	if q.window == 0 {
		return r.valueIn(q, nil, s)
	}
	best, found := math.NaN(), false
	eachWindow(s, q.window, func(w span) {
		v, _ := r.valueIn(q, &w, w)
		if math.IsNaN(v) {
			return
		}
		if !found || worse(c, v, best) {
			best, found = v, true
		}
	})
	return best, true
}

// maxWindows bounds the windows one query evaluates, so a short window over
// a long run stays cheap: the step widens when needed.
const maxWindows = 100_000

// windowStep is the distance between the starts of consecutive sliding
// windows of length d over a span of length total: a tenth of the window,
// at least 1 ms, widened so no more than maxWindows windows are evaluated.
func windowStep(total, d int64) int64 {
	step := max(d/10, int64(time.Millisecond))
	if total > d && (total-d)/step+1 > maxWindows {
		step = (total-d)/(maxWindows-1) + 1
	}
	return step
}

// eachWindow calls fn for every sliding window of length d inside s: the
// windows start at s.from and step by windowStep; a final window ends
// exactly at s.to. A window at least as long as s is s itself.
func eachWindow(s span, d int64, fn func(span)) {
	if d >= s.len() {
		fn(s)
		return
	}
	step := windowStep(s.len(), d)
	last := int64(math.MinInt64)
	for from := s.from; from+d <= s.to; from += step {
		fn(span{from, from + d})
		last = from + d
	}
	if last < s.to {
		fn(span{s.to - d, s.to})
	}
}

// worse reports whether v is a worse value than cur for condition c: larger
// for < and <=, smaller for > and >=, farther from the value for ==,
// closer to it for !=. Without a condition larger is worse.
func worse(c scenarios.Condition, v, cur float64) bool {
	switch c.Op {
	case ">", ">=":
		return v < cur
	case "==":
		return math.Abs(v-c.Value) > math.Abs(cur-c.Value)
	case "!=":
		return math.Abs(v-c.Value) < math.Abs(cur-c.Value)
	}
	return v > cur
}

// valueIn computes the query over window w (nil = no window) whose span
// for rates and time ratios is s.
func (r *Recording) valueIn(q query, w *span, s span) (float64, bool) {
	switch q.family {
	case famUpstream:
		calls, failed := r.upstreamCount(q, w)
		if q.metric == "upstream_failures" {
			return float64(failed), true
		}
		return float64(calls), true
	case famBreaker:
		return r.breakerValue(q, w, s)
	case famRun:
		return r.distortionValue(q.metric), true
	}
	a := r.aggregate(q, w, latencyMetric(q.metric))
	return requestValue(q.metric, a, s.len()), true
}

func latencyMetric(m string) bool { return strings.HasPrefix(m, "latency_") }

// aggKey identifies a cached whole-run aggregate.
type aggKey struct{ phase, breaker, outcome int }

// aggregate is what request metrics need from the requests a filter selects.
type aggregate struct {
	n         int64
	byOutcome [numOutcomes]int64
	latSum    int64
	lats      []int64 // sorted; filled only when a latency metric asked
	hasLats   bool
}

func (q query) matches(rq *request) bool {
	return (q.phase < 0 || int(rq.phase) == q.phase) &&
		(q.breaker < 0 || int(rq.breaker) == q.breaker) &&
		(q.outcome < 0 || int(rq.outcome) == q.outcome)
}

// aggregate collects the requests that q selects, within window w when not
// nil (by start time). Whole-run aggregates are cached with their sorted
// latencies.
func (r *Recording) aggregate(q query, w *span, needLats bool) *aggregate {
	if w != nil {
		lo, hi := r.requestRange(*w)
		a := &aggregate{}
		for i := lo; i < hi; i++ {
			rq := &r.reqs[i]
			if !q.matches(rq) {
				continue
			}
			a.add(rq)
			if needLats {
				a.lats = append(a.lats, rq.lat)
			}
		}
		if needLats {
			slices.Sort(a.lats)
			a.hasLats = true
		}
		return a
	}
	key := aggKey{q.phase, q.breaker, q.outcome}
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.cache[key]
	if !ok {
		a = &aggregate{}
		for i := range r.reqs {
			if rq := &r.reqs[i]; q.matches(rq) {
				a.add(rq)
			}
		}
		r.cache[key] = a
	}
	if needLats && !a.hasLats {
		a.lats = make([]int64, 0, a.n)
		for i := range r.reqs {
			if rq := &r.reqs[i]; q.matches(rq) {
				a.lats = append(a.lats, rq.lat)
			}
		}
		slices.Sort(a.lats)
		a.hasLats = true
	}
	return a
}

func (a *aggregate) add(rq *request) {
	a.n++
	a.byOutcome[rq.outcome]++
	a.latSum += rq.lat
}

// requestRange returns the indexes [lo, hi) of requests starting in w.
func (r *Recording) requestRange(w span) (int, int) {
	lo := sort.Search(len(r.reqs), func(i int) bool { return r.reqs[i].t >= w.from })
	hi := sort.Search(len(r.reqs), func(i int) bool { return r.reqs[i].t >= w.to })
	return lo, hi
}

// requestValue derives a request metric from an aggregate; spanNs is the
// length of scenario time rps divides by. Ratios and latencies over no
// requests are NaN.
func requestValue(metric string, a *aggregate, spanNs int64) float64 {
	n := float64(a.n)
	ratio := func(k int64) float64 {
		if a.n == 0 {
			return math.NaN()
		}
		return float64(k) / n
	}
	oc := &a.byOutcome
	switch metric {
	case "requests":
		return n
	case "rps":
		if spanNs <= 0 {
			return math.NaN()
		}
		return n / (float64(spanNs) / 1e9)
	case "success_ratio":
		return ratio(oc[ocUpstream] + oc[ocCache] + oc[ocExcerpts])
	case "upstream_ratio":
		return ratio(oc[ocUpstream])
	case "fallback_ratio":
		return ratio(oc[ocCache] + oc[ocExcerpts])
	case "cache_ratio":
		return ratio(oc[ocCache])
	case "excerpts_ratio":
		return ratio(oc[ocExcerpts])
	case "unavailable_ratio":
		return ratio(oc[ocUnavailable])
	case "error_ratio":
		return ratio(oc[ocError] + oc[ocBadResponse])
	case "latency_mean":
		if a.n == 0 {
			return math.NaN()
		}
		return float64(a.latSum) / n / 1e9
	case "latency_max":
		if len(a.lats) == 0 {
			return math.NaN()
		}
		return float64(a.lats[len(a.lats)-1]) / 1e9
	}
	if pm, ok := percentileMille[metric]; ok {
		if len(a.lats) == 0 {
			return math.NaN()
		}
		return float64(nearestRank(a.lats, pm)) / 1e9
	}
	return math.NaN()
}

// nearestRank returns the exact nearest-rank percentile of a sorted
// sample: the value at 1-based rank ceil(p × n), for p = mille/1000, in
// integer arithmetic so no rounding error moves the rank. An empty sample
// yields -1; callers check for it.
func nearestRank(sorted []int64, mille int64) int64 {
	n := int64(len(sorted))
	if n == 0 {
		return -1
	}
	rank := (n*mille + 999) / 1000
	return sorted[max(rank, 1)-1]
}

// upstreamCount counts the upstream calls q selects (phase when the call
// arrived, breaker state when it arrived), within window w when not nil.
func (r *Recording) upstreamCount(q query, w *span) (calls, failed int64) {
	cs := r.calls
	if w != nil {
		lo := sort.Search(len(cs), func(i int) bool { return cs[i].t >= w.from })
		hi := sort.Search(len(cs), func(i int) bool { return cs[i].t >= w.to })
		cs = cs[lo:hi]
	}
	for i := range cs {
		c := &cs[i]
		if (q.phase >= 0 && int(c.phase) != q.phase) || (q.breaker >= 0 && int(c.breaker) != q.breaker) {
			continue
		}
		calls++
		if c.failed {
			failed++
		}
	}
	return calls, failed
}

// breakerValue computes a breaker metric. Transitions count when they fall
// in the window, or else in the phase's event span; open_time_ratio divides
// the open time inside s by the length of s.
func (r *Recording) breakerValue(q query, w *span, s span) (float64, bool) {
	ev := r.eventSpan(q)
	if w != nil {
		ev = *w
	}
	switch q.metric {
	case "open_time_ratio":
		if s.len() <= 0 {
			return math.NaN(), true
		}
		return float64(r.openWithin(s)) / float64(s.len()), true
	case "time_to_open", "time_to_close":
		to := contract.StateOpen
		if q.metric == "time_to_close" {
			to = contract.StateClosed
		}
		for _, tr := range r.transitions {
			if int64(tr.T) >= ev.from && int64(tr.T) < ev.to && tr.To == to {
				return float64(max(int64(tr.T)-s.from, 0)) / 1e9, true
			}
		}
		return math.NaN(), false
	}
	var n int64
	for _, tr := range r.transitions {
		if int64(tr.T) < ev.from || int64(tr.T) >= ev.to {
			continue
		}
		if q.metric == "breaker_transitions" || tr.To == contract.StateOpen {
			n++
		}
	}
	return float64(n), true
}
