package reports

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

// MetricNames lists every metric a threshold can name, in the order the
// summary and the report print them overall and per phase: the
// ScopeFiltered entries of scenarios.MetricTable. (Whole-run metrics such as
// the distortion checks are thresholds too, without filters.)
var MetricNames = scenarios.MetricNamesOf(scenarios.ScopeFiltered)

// metricFamily groups metrics by the records they read, which decides the
// filters that apply.
type metricFamily int

const (
	famRequest metricFamily = iota
	famUpstream
	famBreaker
	famRun  // whole-run figures (distortion checks, a sweep row's own); no filters
	famLoad // the rate asked for against the rate sent: phase and window filters only
)

// metricDef is how this package computes one metric of
// scenarios.MetricTable; the function of the metric's family is set.
type metricDef struct {
	family metricFamily
	// request derives a request metric from the aggregate of the selected
	// requests; spanNs is the scenario time the selection covers.
	request func(a *aggregate, spanNs int64) float64
	// sorted says request needs the sorted sample of kind sample
	// (latencies unless said otherwise).
	sorted bool
	sample sampleKind
	// upstream derives an upstream metric from the selected calls.
	upstream func(calls, failed int64) float64
	// breaker derives a breaker metric from the transitions of v in ev
	// over span s; false means the event never happened.
	breaker func(v *breakerView, ev, s span) (float64, bool)
	// noWindow refuses the window filter.
	noWindow bool
	// run computes a whole-run metric; false means the event never
	// happened.
	run func(r *Recording) (float64, bool)
	// load compares the requests sent with the rate asked for, over
	// window w (nil = none) whose span is s.
	load func(r *Recording, q query, w *span, s span) float64
}

// metricDefs holds the computation of every metric of
// scenarios.MetricTable, keyed by name (TestMetricTableComplete checks
// that both list the same metrics).
var metricDefs = map[string]metricDef{
	"requests": {family: famRequest, request: func(a *aggregate, _ int64) float64 { return float64(a.n) }},
	"rps": {family: famRequest, request: func(a *aggregate, spanNs int64) float64 {
		if spanNs <= 0 {
			return math.NaN()
		}
		return float64(a.n) / (float64(spanNs) / 1e9)
	}},
	"success_ratio":     outcomeRatio(ocUpstream, ocCache, ocExcerpts),
	"upstream_ratio":    outcomeRatio(ocUpstream),
	"fallback_ratio":    outcomeRatio(ocCache, ocExcerpts),
	"cache_ratio":       outcomeRatio(ocCache),
	"excerpts_ratio":    outcomeRatio(ocExcerpts),
	"unavailable_ratio": outcomeRatio(ocUnavailable),
	"error_ratio":       outcomeRatio(ocError, ocBadResponse),
	"latency_p50":       percentile(500),
	"latency_p90":       percentile(900),
	"latency_p95":       percentile(950),
	"latency_p99":       percentile(990),
	"latency_p999":      percentile(999),
	"latency_max":       largest(sampleLatency),
	"latency_mean": {family: famRequest, sorted: true, request: func(a *aggregate, _ int64) float64 {
		if a.n == 0 {
			return math.NaN()
		}
		return float64(a.latSum) / float64(a.n) / 1e9
	}},
	"upstream_calls":    {family: famUpstream, upstream: func(calls, _ int64) float64 { return float64(calls) }},
	"upstream_failures": {family: famUpstream, upstream: func(_, failed int64) float64 { return float64(failed) }},
	"breaker_opens": {family: famBreaker, breaker: countTransitions(func(tr *recording.Transition) bool {
		return tr.To == contract.StateOpen
	})},
	"breaker_transitions": {family: famBreaker, breaker: countTransitions(func(*recording.Transition) bool { return true })},
	"open_time_ratio": {family: famBreaker, breaker: func(v *breakerView, _, s span) (float64, bool) {
		if s.len() <= 0 {
			return math.NaN(), true
		}
		return float64(v.openWithin(s)) / float64(s.len()), true
	}},
	"time_to_open":  firstTransition(contract.StateOpen),
	"time_to_close": firstTransition(contract.StateClosed),

	"distorted": fromDistortion(func(d *recording.Distortion) float64 {
		if d.Distorted {
			return 1
		}
		return 0
	}),
	"contention_timeouts":  fromDistortion(func(d *recording.Distortion) float64 { return float64(d.ContentionTimeouts) }),
	"upstream_slowdown":    fromDistortion(func(d *recording.Distortion) float64 { return d.UpstreamSlowdown }),
	"timer_lateness_p99":   fromDistortion(func(d *recording.Distortion) float64 { return d.TimerLatenessP99.Seconds() }),
	"local_work_shift":     fromDistortion(func(d *recording.Distortion) float64 { return d.LocalWorkShift.Seconds() }),
	"breaker_lateness_max": fromDistortion(func(d *recording.Distortion) float64 { return d.BreakerLatenessMax.Seconds() }),
	"achieved_rate_ratio":  {family: famLoad, load: (*Recording).achievedValue},
	"target_rps":           {family: famLoad, load: (*Recording).targetRPS},
	"send_lag_p99":         sampled(sampleLag, 990),
	"send_lag_max":         largest(sampleLag),
	"response_time_p50":    sampled(sampleResponse, 500),
	"response_time_p90":    sampled(sampleResponse, 900),
	"response_time_p99":    sampled(sampleResponse, 990),
	"response_time_max":    largest(sampleResponse),

	"availability": {family: famRun, run: availability},
	"time_to_close_recovery": {family: famRun, run: func(r *Recording) (float64, bool) {
		return timeToCloseRecovery(r.Scenario, r.Header.Phases, r.transitions)
	}},
	"half_open_probes":         {family: famRun, run: halfOpenProbes},
	"failures_before_trip":     {family: famRun, run: failuresBeforeTrip},
	"failures_before_all_open": {family: famRun, run: failuresBeforeAllOpen},
}

// outcomeRatio is the share of selected requests with one of the outcomes;
// NaN over no requests.
func outcomeRatio(outcomes ...uint8) metricDef {
	return metricDef{family: famRequest, request: func(a *aggregate, _ int64) float64 {
		if a.n == 0 {
			return math.NaN()
		}
		var k int64
		for _, o := range outcomes {
			k += a.byOutcome[o]
		}
		return float64(k) / float64(a.n)
	}}
}

// percentile is the exact nearest-rank percentile of the selected
// latencies, mille in thousandths for integer arithmetic.
func percentile(mille int64) metricDef { return sampled(sampleLatency, mille) }

// sampled is the exact nearest-rank percentile of a per-request sample.
func sampled(kind sampleKind, mille int64) metricDef {
	return metricDef{family: famRequest, sorted: true, sample: kind, request: func(a *aggregate, _ int64) float64 {
		vs := a.samples[kind]
		if len(vs) == 0 {
			return math.NaN()
		}
		return float64(nearestRank(vs, mille)) / 1e9
	}}
}

// largest is the largest value of a per-request sample.
func largest(kind sampleKind) metricDef {
	return metricDef{family: famRequest, sorted: true, sample: kind, request: func(a *aggregate, _ int64) float64 {
		vs := a.samples[kind]
		if len(vs) == 0 {
			return math.NaN()
		}
		return float64(vs[len(vs)-1]) / 1e9
	}}
}

// sampleKind is the per-request duration a distribution metric reads.
type sampleKind int

const (
	// sampleLatency is the service latency, from the actual send.
	sampleLatency sampleKind = iota
	// sampleLag is how late the request was sent: actual − intended.
	sampleLag
	// sampleResponse is the response time from the intended send: lag +
	// latency, the figure coordinated omission cannot hide.
	sampleResponse
	numSamples
)

// sample is the value of one request for a sample kind, in ns.
func (rq *request) sample(k sampleKind) int64 {
	switch k {
	case sampleLag:
		return rq.lag
	case sampleResponse:
		return rq.lag + rq.lat
	}
	return rq.lat
}

// countTransitions counts the transitions in ev that match.
func countTransitions(match func(*recording.Transition) bool) func(*breakerView, span, span) (float64, bool) {
	return func(v *breakerView, ev, _ span) (float64, bool) {
		var n int64
		for i := range v.transitions {
			tr := &v.transitions[i]
			if int64(tr.T) >= ev.from && int64(tr.T) < ev.to && match(tr) {
				n++
			}
		}
		return float64(n), true
	}
}

// firstTransition is the time from the start of s to the first transition
// into state within ev; false when there is none.
func firstTransition(state contract.State) metricDef {
	return metricDef{family: famBreaker, noWindow: true, breaker: func(v *breakerView, ev, s span) (float64, bool) {
		for _, tr := range v.transitions {
			if int64(tr.T) >= ev.from && int64(tr.T) < ev.to && tr.To == state {
				return float64(max(int64(tr.T)-s.from, 0)) / 1e9, true
			}
		}
		return math.NaN(), false
	}}
}

func familyOf(metric string) (metricFamily, bool) {
	d, ok := metricDefs[metric]
	return d.family, ok
}

// query is a threshold's metric and filters resolved against a recording.
type query struct {
	metric  string
	family  metricFamily
	phase   int // index into Header.Phases, -1 for any
	breaker int // stClosed..stOpen, -1 for any
	outcome int // outcome index, -1 for any
	window  int64
	replica int // from 1, 0 for any
}

// resolve checks a threshold's metric and filters against the recording.
func (r *Recording) resolve(th scenarios.Threshold) (query, error) {
	q := query{metric: th.Metric, phase: -1, breaker: -1, outcome: -1, window: int64(th.Filters.Window), replica: th.Filters.Replica}
	fam, ok := familyOf(th.Metric)
	if !ok {
		return q, fmt.Errorf("unknown metric %q", th.Metric)
	}
	q.family = fam
	if fam == famRun {
		if m, _ := scenarios.LookupMetric(th.Metric); m.Scope == scenarios.ScopeSweep {
			return q, fmt.Errorf("metric %s is computed for sweep rows only and takes no threshold", th.Metric)
		}
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
		if fam == famBreaker || fam == famLoad {
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
	if k := q.replica; k != 0 {
		if fam == famLoad {
			return q, fmt.Errorf("filter replica does not apply to %s", th.Metric)
		}
		if n := r.replicaCount(); k < 1 || k > n {
			return q, fmt.Errorf("replica %d is not in this run (replicas: 1 to %d)", k, n)
		}
	}
	if q.window < 0 {
		return q, fmt.Errorf("window %v is negative", th.Filters.Window)
	}
	if q.window > 0 && metricDefs[q.metric].noWindow {
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
	if why := r.missingInput(r.span(q)); why != "" {
		return 0, false, errors.New(why)
	}
	if why := r.uncorrectedInput(th.Metric); why != "" {
		return 0, false, errors.New(why)
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
	d := metricDefs[q.metric]
	switch q.family {
	case famUpstream:
		return d.upstream(r.upstreamCount(q, w)), true
	case famBreaker:
		ev := r.eventSpan(q)
		if w != nil {
			ev = *w
		}
		return d.breaker(r.breakers(q.replica), ev, s)
	case famRun:
		return d.run(r)
	case famLoad:
		return d.load(r, q, w, s), true
	}
	if d.sorted && d.sample != sampleLatency && !r.Header.IntendedTimes {
		return math.NaN(), true // recorded before intended send times were
	}
	kind := noSample
	if d.sorted {
		kind = d.sample
	}
	return d.request(r.aggregate(q, w, kind), s.len()), true
}

// noSample asks aggregate for no sorted sample.
const noSample sampleKind = -1

// aggKey identifies a cached whole-run aggregate.
type aggKey struct{ phase, breaker, outcome, replica int }

// aggregate is what request metrics need from the requests a filter selects.
type aggregate struct {
	n         int64
	byOutcome [numOutcomes]int64
	latSum    int64
	samples   [numSamples][]int64 // sorted; filled only when a metric asked
	has       [numSamples]bool
}

func (q query) matches(rq *request) bool {
	return (q.phase < 0 || int(rq.phase) == q.phase) &&
		(q.breaker < 0 || int(rq.breaker) == q.breaker) &&
		(q.outcome < 0 || int(rq.outcome) == q.outcome) &&
		(q.replica == 0 || recording.OfReplica(int(rq.replica), q.replica))
}

// aggregate collects the requests that q selects, within window w when not
// nil (by start time), with the sorted sample of kind when it is not
// noSample. Whole-run aggregates are cached with the samples asked for.
func (r *Recording) aggregate(q query, w *span, kind sampleKind) *aggregate {
	if w != nil {
		lo, hi := r.requestRange(*w)
		a := &aggregate{}
		for i := lo; i < hi; i++ {
			rq := &r.reqs[i]
			if !q.matches(rq) {
				continue
			}
			a.add(rq)
			if kind != noSample {
				a.samples[kind] = append(a.samples[kind], rq.sample(kind))
			}
		}
		if kind != noSample {
			slices.Sort(a.samples[kind])
			a.has[kind] = true
		}
		return a
	}
	key := aggKey{q.phase, q.breaker, q.outcome, q.replica}
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
	if kind != noSample && !a.has[kind] {
		vs := make([]int64, 0, a.n)
		for i := range r.reqs {
			if rq := &r.reqs[i]; q.matches(rq) {
				vs = append(vs, rq.sample(kind))
			}
		}
		slices.Sort(vs)
		a.samples[kind], a.has[kind] = vs, true
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
// arrived, breaker state when it was sent, replica that sent it), within window w when not nil.
func (r *Recording) upstreamCount(q query, w *span) (calls, failed int64) {
	cs := r.calls
	if w != nil {
		lo := sort.Search(len(cs), func(i int) bool { return cs[i].t >= w.from })
		hi := sort.Search(len(cs), func(i int) bool { return cs[i].t >= w.to })
		cs = cs[lo:hi]
	}
	for i := range cs {
		c := &cs[i]
		if (q.phase >= 0 && int(c.phase) != q.phase) || (q.breaker >= 0 && int(c.breaker) != q.breaker) ||
			(q.replica != 0 && !recording.OfReplica(int(c.replica), q.replica)) {
			continue
		}
		calls++
		if c.failed {
			failed++
		}
	}
	return calls, failed
}
