package reports

import (
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

const (
	ms = time.Millisecond
	s  = time.Second
)

// handRun writes the small recording every hand-worked test below uses.
//
// Phases: a [0s,10s), b [10s,20s); duration 20 s.
//
//	req  t    latency  outcome      phase breaker
//	 1   1s   10ms     upstream     a     closed
//	 2   2s   20ms     upstream     a     closed
//	 3   3s   30ms     l1_cache     a     closed
//	 4   4s   40ms     error        a     closed
//	 5   11s  5ms      excerpts     b     open
//	 6   12s  1ms      l1_cache     b     open
//	 7   13s  2ms      unavailable  b     open
//	 8   14s  100ms    upstream     b     half-open
//	 9   15s  50ms     bad_response b     closed
//	10   19s  3ms      excerpts     b     closed
//
// Transitions: 10.5s closed→open, 13.5s open→half-open, 14.2s
// half-open→closed, 16s closed→open, 18s open→half-open: open during
// [10.5,13.5) and [16,18), 5 s in all.
//
// Upstream calls: 1s ok, 2s ok, 4s hang (a, closed); 10.2s 500 (b,
// closed); 12s ok (b, open); 14s ok (b, half-open); 15s 500 (b, closed).
func handRun(t *testing.T) *Recording {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	h := recording.Header{
		Scenario: "hand", Seed: 1, TimeScale: 1,
		Phases:   []recording.PhaseSpan{{Name: "a", Start: 0, End: 10 * s}, {Name: "b", Start: 10 * s, End: 20 * s}},
		Breakers: []string{"br"},
	}
	w, err := recording.Create(dir, h)
	if err != nil {
		t.Fatal(err)
	}
	type rq struct {
		t, lat  time.Duration
		out     contract.Outcome
		status  int
		phase   string
		breaker string
	}
	reqs := []rq{
		{1 * s, 10 * ms, contract.OutcomeUpstream, 200, "a", "closed"},
		{3 * s, 30 * ms, contract.OutcomeCache, 200, "a", "closed"}, // out of start order on purpose
		{2 * s, 20 * ms, contract.OutcomeUpstream, 200, "a", "closed"},
		{4 * s, 40 * ms, contract.OutcomeError, 0, "a", "closed"},
		{11 * s, 5 * ms, contract.OutcomeExcerpts, 200, "b", "open"},
		{12 * s, 1 * ms, contract.OutcomeCache, 200, "b", "open"},
		{13 * s, 2 * ms, contract.OutcomeUnavailable, 503, "b", "open"},
		{14 * s, 100 * ms, contract.OutcomeUpstream, 200, "b", "half-open"},
		{15 * s, 50 * ms, contract.OutcomeBadResponse, 500, "b", "closed"},
		{19 * s, 3 * ms, contract.OutcomeExcerpts, 200, "b", "closed"},
	}
	for i, q := range reqs {
		if err := w.Request(recording.Request{Seq: uint64(i + 1), T: q.t, Latency: q.lat, Status: q.status, Outcome: q.out, Phase: q.phase, Breaker: contract.State(q.breaker)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tr := range []recording.Transition{
		{T: 10500 * ms, Breaker: "br", From: "closed", To: "open"},
		{T: 13500 * ms, Breaker: "br", From: "open", To: "half-open"},
		{T: 14200 * ms, Breaker: "br", From: "half-open", To: "closed"},
		{T: 16 * s, Breaker: "br", From: "closed", To: "open"},
		{T: 18 * s, Breaker: "br", From: "open", To: "half-open"},
	} {
		if err := w.Transition(tr); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []recording.UpstreamCall{
		{T: 1 * s, Phase: "a", Status: 200, Breaker: "closed"},
		{T: 2 * s, Phase: "a", Status: 200, Breaker: "closed"},
		{T: 4 * s, Phase: "a", Fault: "hang", Status: 0, Breaker: "closed"},
		{T: 10200 * ms, Phase: "b", Status: 500, Breaker: "closed"},
		{T: 12 * s, Phase: "b", Status: 200, Breaker: "open"},
		{T: 14 * s, Phase: "b", Status: 200, Breaker: "half-open"},
		{T: 15 * s, Phase: "b", Status: 500, Breaker: "closed"},
	} {
		c.Seq = uint64(i + 1)
		if err := w.UpstreamCall(c); err != nil {
			t.Fatal(err)
		}
	}
	sc := &scenarios.Scenario{Name: "hand", Breaker: scenarios.Breaker{Enabled: true, Policy: "consecutive", FailThreshold: 5, CallTimeout: scenarios.Duration(30 * s)}}
	return closeAndLoad(t, w, 20*s, sc)
}

// closeAndLoad finishes a hand-written recording covering d and loads it
// with the scenario sc, skipping the scenario parser.
func closeAndLoad(t *testing.T, w *recording.Writer, d time.Duration, sc *scenarios.Scenario) *Recording {
	t.Helper()
	if err := w.Close(d, time.Unix(0, 0).UTC(), false); err != nil {
		t.Fatal(err)
	}
	hdr, err := recording.ReadHeader(w.Dir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := load(w.Dir(), hdr, sc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// th builds a threshold from a key like `latency_p99{phase:b,window:5s}`
// without the scenario parser, so these tests pin the metrics alone.
func th(t *testing.T, key string, op string) scenarios.Threshold {
	t.Helper()
	out := scenarios.Threshold{Key: key, Metric: key}
	if i := strings.IndexByte(key, '{'); i >= 0 {
		out.Metric = key[:i]
		for _, kv := range strings.Split(strings.TrimSuffix(key[i+1:], "}"), ",") {
			k, v, _ := strings.Cut(kv, ":")
			switch k {
			case "phase":
				out.Filters.Phase = v
			case "breaker":
				out.Filters.Breaker = v
			case "outcome":
				out.Filters.Outcome = v
			case "replica":
				k, err := strconv.Atoi(v)
				if err != nil {
					t.Fatal(err)
				}
				out.Filters.Replica = k
			case "window":
				d, err := time.ParseDuration(v)
				if err != nil {
					t.Fatal(err)
				}
				out.Filters.Window = d
			default:
				t.Fatalf("bad filter %q", kv)
			}
		}
	}
	if op != "" {
		out.Conditions = []scenarios.Condition{{Op: op, Raw: op + " 0"}}
	}
	return out
}

func TestMetricsHandWorked(t *testing.T) {
	r := handRun(t)
	never := math.Inf(1)
	cases := []struct {
		key  string
		op   string // direction for windows
		want float64
	}{
		// Whole run: 10 requests over 20 s.
		{"requests", "", 10},
		{"rps", "", 0.5},
		{"success_ratio", "", 0.7},     // upstream 1,2,8 + cache 3,6 + excerpts 5,10
		{"upstream_ratio", "", 0.3},    // 1,2,8
		{"fallback_ratio", "", 0.4},    // 3,5,6,10
		{"cache_ratio", "", 0.2},       // 3,6
		{"excerpts_ratio", "", 0.2},    // 5,10
		{"unavailable_ratio", "", 0.1}, // 7
		{"error_ratio", "", 0.2},       // error 4 + bad_response 9
		// Sorted latencies: 1 2 3 5 10 20 30 40 50 100 ms; nearest rank ceil(p·n).
		{"latency_p50", "", 0.010},  // rank 5
		{"latency_p90", "", 0.050},  // rank 9
		{"latency_p95", "", 0.100},  // rank 10
		{"latency_p99", "", 0.100},  // rank 10
		{"latency_p999", "", 0.100}, // rank 10
		{"latency_max", "", 0.100},
		{"latency_mean", "", 0.0261}, // 261 ms / 10
		{"upstream_calls", "", 7},
		{"upstream_failures", "", 3}, // hang, two 500s
		{"breaker_opens", "", 2},
		{"breaker_transitions", "", 5},
		{"open_time_ratio", "", 0.25}, // 5 s of 20
		{"time_to_open", "", 10.5},
		{"time_to_close", "", 14.2},

		// Phase filters.
		{"requests{phase:a}", "", 4},
		{"rps{phase:a}", "", 0.4},
		{"success_ratio{phase:a}", "", 0.75},
		{"error_ratio{phase:a}", "", 0.25},
		{"latency_p50{phase:a}", "", 0.020}, // 10 20 30 40: rank 2
		{"latency_p90{phase:a}", "", 0.040}, // rank ceil(3.6)=4
		{"latency_p50{phase:b}", "", 0.003}, // 1 2 3 5 50 100: rank 3
		{"unavailable_ratio{phase:b}", "", 1.0 / 6},
		{"upstream_calls{phase:a}", "", 3},
		{"upstream_failures{phase:a}", "", 1},
		{"upstream_failures{phase:b}", "", 2},
		{"open_time_ratio{phase:a}", "", 0},
		{"open_time_ratio{phase:b}", "", 0.5},
		{"breaker_opens{phase:a}", "", 0},
		{"breaker_transitions{phase:b}", "", 5},
		{"time_to_open{phase:b}", "", 0.5},
		{"time_to_close{phase:b}", "", 4.2},
		{"time_to_open{phase:a}", "", never},
		{"time_to_close{phase:a}", "", never},

		// Breaker and outcome filters.
		{"requests{breaker:open}", "", 3},
		{"success_ratio{breaker:open}", "", 2.0 / 3},
		{"latency_max{breaker:closed}", "", 0.050}, // 10 20 30 40 50 3
		{"latency_p50{outcome:upstream}", "", 0.020},
		{"requests{outcome:excerpts,phase:b}", "", 2},
		{"upstream_calls{breaker:open}", "", 1},
		{"upstream_failures{breaker:closed}", "", 3},

		// Windows: 5 s windows step 500 ms over [0,20); empty windows are
		// skipped for ratios and latencies.
		{"requests{window:5s}", "<", 5},           // [10.5,15.5): 11..15
		{"requests{window:5s}", ">", 0},           // [5,10) is empty
		{"rps{window:5s}", "<", 1},                // 5 per 5 s
		{"success_ratio{window:5s}", ">=", 0},     // [3.5,8.5) holds only the error
		{"success_ratio{window:5s}", "<=", 1},     // [6.5,11.5) holds only 5
		{"latency_p99{window:5s}", "<", 0.100},    // any window with 8
		{"latency_p99{window:5s}", ">", 0.005},    // [7,12) holds only 5
		{"requests{phase:b,window:5s}", ">", 2},   // only windows inside b: [15,20)
		{"breaker_opens{window:6s}", "<", 2},      // 10.5 and 16 fit in 6 s
		{"breaker_opens{window:5s}", "<", 1},      // but not in 5 s
		{"open_time_ratio{window:4s}", "<", 0.75}, // [10.4,14.4) holds 3 s open
		{"upstream_failures{window:2s}", "<", 1},
		{"requests{window:1m}", "<", 10}, // a window longer than the run is the run
		{"requests{window:5s}", "==", 5}, // farthest from the condition value 0
	}
	for _, c := range cases {
		thr := th(t, c.key, c.op)
		got, ok, err := r.Metric(thr)
		if err != nil {
			t.Errorf("%s: %v", c.key, err)
			continue
		}
		if math.IsInf(c.want, 1) {
			if ok {
				t.Errorf("%s %s = %v, want never", c.key, c.op, got)
			}
			continue
		}
		if !ok || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s %s = %v (ok %v), want %v", c.key, c.op, got, ok, c.want)
		}
	}
}

func TestMetricNoData(t *testing.T) {
	r := handRun(t)
	for _, key := range []string{"latency_p99{phase:a,breaker:open}", "success_ratio{outcome:error,breaker:open}"} {
		got, ok, err := r.Metric(th(t, key, "<"))
		if err != nil || !ok || !math.IsNaN(got) {
			t.Errorf("%s = %v, %v, %v; want NaN, true, nil", key, got, ok, err)
		}
	}
}

func TestMetricErrors(t *testing.T) {
	r := handRun(t)
	cases := []struct{ key, want string }{
		{"latency_p99{phase:nope}", `phase "nope" is not in this run (phases: a, b)`},
		{"breaker_opens{breaker:open}", "filter breaker does not apply to breaker_opens"},
		{"upstream_calls{outcome:error}", "filter outcome does not apply to upstream_calls"},
		{"time_to_open{window:10s}", "filter window does not apply to time_to_open"},
		{"requests{breaker:ajar}", `breaker state "ajar"`},
		{"requests{outcome:great}", `outcome "great"`},
		{"bogus", `unknown metric "bogus"`},
	}
	for _, c := range cases {
		_, _, err := r.Metric(th(t, c.key, "<"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.key, err, c.want)
		}
	}
	if err := r.Check([]scenarios.Threshold{th(t, "requests", "<"), th(t, "bogus", "<"), th(t, "rps{phase:x}", "<")}); err == nil ||
		!strings.Contains(err.Error(), "bogus") || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("Check: %v, want both bad thresholds named", err)
	}
}

func TestEvaluate(t *testing.T) {
	r := handRun(t)
	mk := func(key, op string, v float64) scenarios.Threshold {
		x := th(t, key, "")
		x.Conditions = []scenarios.Condition{{Op: op, Value: v, Raw: op + " " + trimFloat(v, 6)}}
		return x
	}
	cases := []struct {
		th      scenarios.Threshold
		passed  bool
		display string
		never   bool
		noData  bool
	}{
		{mk("latency_p50", "<", 0.011), true, "10 ms", false, false},
		{mk("latency_p50", "<", 0.010), false, "10 ms", false, false},
		{mk("latency_p50", "<=", 0.010), true, "10 ms", false, false},
		{mk("success_ratio", ">=", 0.7), true, "70%", false, false},
		{mk("success_ratio", ">", 0.7), false, "70%", false, false},
		{mk("unavailable_ratio{phase:b}", "<", 0.2), true, "16.7%", false, false},
		{mk("upstream_calls{breaker:open}", "==", 0), false, "1", false, false},
		{mk("upstream_calls{breaker:open}", "!=", 0), true, "1", false, false},
		{mk("rps", ">=", 0.5), true, "0.5/s", false, false},
		{mk("time_to_open{phase:a}", "<", 2), false, "never", true, false},
		{mk("time_to_open{phase:a}", ">=", 2), true, "never", true, false},
		{mk("time_to_close{phase:b}", "<", 5), true, "4.2 s", false, false},
		{mk("latency_p99{phase:a,breaker:open}", "<", 1), false, "no data", false, true},
		{mk("success_ratio{window:5s}", ">=", 0.5), false, "0%", false, false},
	}
	var ths []scenarios.Threshold
	for _, c := range cases {
		ths = append(ths, c.th)
	}
	vs := Evaluate(r, ths)
	if len(vs) != len(cases) {
		t.Fatalf("%d verdicts, want %d", len(vs), len(cases))
	}
	for i, c := range cases {
		v := vs[i]
		if v.Passed != c.passed || v.Display != c.display || v.Never != c.never || v.NoData != c.noData {
			t.Errorf("%s: passed %v display %q never %v nodata %v; want %v %q %v %v",
				v.Name(), v.Passed, v.Display, v.Never, v.NoData, c.passed, c.display, c.never, c.noData)
		}
	}
	bad := Evaluate(r, []scenarios.Threshold{mk("rps{phase:zz}", "<", 1)})
	if len(bad) != 1 || bad[0].Passed || bad[0].Err == "" {
		t.Errorf("verdict for an unknown phase = %+v, want a failed verdict with Err", bad)
	}
}

func TestFormatValue(t *testing.T) {
	cases := []struct {
		u    scenarios.Unit
		v    float64
		want string
	}{
		{scenarios.UnitDuration, 0.0875, "87.5 ms"},
		{scenarios.UnitDuration, 0.0000421, "42.1 µs"},
		{scenarios.UnitDuration, 1.5, "1.5 s"},
		{scenarios.UnitDuration, 61, "61 s"},
		{scenarios.UnitDuration, 300, "5 min"},
		{scenarios.UnitDuration, 36000, "10 h"},
		{scenarios.UnitDuration, 0, "0 s"},
		{scenarios.UnitRatio, 0.992, "99.2%"},
		{scenarios.UnitRatio, 0.9996, "99.96%"},
		{scenarios.UnitRatio, 1, "100%"},
		{scenarios.UnitRatio, 0.00001, "0.001%"},
		{scenarios.UnitRatio, 0, "0%"},
		{scenarios.UnitRate, 19.96, "20/s"},
		{scenarios.UnitRate, 12.34, "12.3/s"},
		{scenarios.UnitCount, 42, "42"},
		{scenarios.UnitCount, math.NaN(), "no data"},
		{scenarios.UnitDuration, math.Inf(1), "never"},
	}
	for _, c := range cases {
		if got := FormatValue(c.u, c.v); got != c.want {
			t.Errorf("FormatValue(%v, %v) = %q, want %q", c.u, c.v, got, c.want)
		}
	}
}

func TestMetricNamesMatchScenarios(t *testing.T) {
	var names []string
	for n := range scenarios.Metrics {
		names = append(names, n)
	}
	slices.Sort(names)
	mine := slices.Clone(MetricNames)
	for n, d := range metricDefs {
		if m, _ := scenarios.LookupMetric(n); d.family == famRun && m.Scope == scenarios.ScopeRun {
			mine = append(mine, n)
		}
	}
	slices.Sort(mine)
	if !slices.Equal(names, mine) {
		t.Errorf("reports.MetricNames %v\n!= scenarios.Metrics %v", mine, names)
	}
}

func TestEachWindow(t *testing.T) {
	var got []span
	// A 4 ns window over 10 ns: the 1 ms minimum step leaves one window at
	// the start and the final one ending at the span's end.
	eachWindow(span{0, 10}, 4, func(w span) { got = append(got, w) })
	if !slices.Equal(got, []span{{0, 4}, {6, 10}}) {
		t.Errorf("windows = %v, want [{0 4} {6 10}]", got)
	}
	got = nil
	eachWindow(span{0, int64(10 * s)}, int64(4*s), func(w span) { got = append(got, w) })
	if n := len(got); n != 16 || got[0] != (span{0, int64(4 * s)}) || got[n-1] != (span{int64(6 * s), int64(10 * s)}) {
		t.Errorf("%d windows, first %v last %v; want 16 from [0,4s) to [6s,10s)", n, got[0], got[n-1])
	}
	// A short window over a long span is bounded.
	n := 0
	eachWindow(span{0, int64(24 * time.Hour)}, int64(10*ms), func(span) { n++ })
	if n > maxWindows+1 {
		t.Errorf("%d windows, want at most %d", n, maxWindows+1)
	}
}

func TestOpenSpans(t *testing.T) {
	trs := []recording.Transition{
		{T: 1, Breaker: "x", To: "open"},
		{T: 3, Breaker: "y", To: "open"},
		{T: 4, Breaker: "x", To: "half-open"},
		{T: 6, Breaker: "y", To: "closed"},
		{T: 8, Breaker: "x", To: "open"},
	}
	got := openSpans(trs, 10)
	want := []span{{1, 6}, {8, 10}}
	if !slices.Equal(got, want) {
		t.Errorf("openSpans = %v, want %v", got, want)
	}
}
