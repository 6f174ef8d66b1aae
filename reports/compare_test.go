package reports

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"brownout/contract"
	"brownout/recording"
)

// pairRun is a tiny recording written by hand for the comparison tests.
type pairRun struct {
	reqs  []recording.Request
	calls []recording.UpstreamCall
	trs   []recording.Transition
}

// writePairRun writes run into dir with the hard-outage phases (healthy
// [0,60s), outage [60s,150s), recovery [150s,270s)) and scenario.
func writePairRun(t *testing.T, dir string, run pairRun) {
	t.Helper()
	yaml, err := os.ReadFile(filepath.Join("testdata", "hard-outage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	h := recording.Header{
		Scenario: "hard-outage", ScenarioYAML: string(yaml), Seed: 42, TimeScale: 10,
		Phases: []recording.PhaseSpan{
			{Name: "healthy", Start: 0, End: 60 * s},
			{Name: "outage", Start: 60 * s, End: 150 * s},
			{Name: "recovery", Start: 150 * s, End: 270 * s},
		},
		Breakers: []string{"huggingface_api"},
	}
	w, err := recording.Create(dir, h)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range run.reqs {
		q.Seq = uint64(i + 1)
		if err := w.Request(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, tr := range run.trs {
		tr.Breaker = "huggingface_api"
		if err := w.Transition(tr); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range run.calls {
		c.Seq = uint64(i + 1)
		if err := w.UpstreamCall(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(270*s, time.Unix(0, 0).UTC(), false); err != nil {
		t.Fatal(err)
	}
}

func req(t, lat time.Duration, out contract.Outcome, phase string) recording.Request {
	status := 200
	if out == contract.OutcomeUnavailable {
		status = 503
	}
	return recording.Request{T: t, Latency: lat, Status: status, Outcome: out, Phase: phase, Breaker: "closed"}
}

func upcall(t time.Duration, phase string, status int) recording.UpstreamCall {
	return recording.UpstreamCall{T: t, Phase: phase, Status: status, Breaker: "closed"}
}

// comparePair writes the two runs of the comparison tests and compares
// them (or the other way round when swap is set).
//
//	                     base                    new
//	healthy   4 × upstream 100 ms          4 × upstream 110 ms
//	outage    2 × excerpts 10 ms,          4 × excerpts 10 ms
//	          2 × unavailable 5 ms
//	recovery  2 × upstream 200 ms          2 × upstream 300 ms
//	calls     4 ok, 6 failed, 2 ok         4 ok, 3 failed, 2 ok
//	breaker   open 70 s, half-open 130 s,  never opens
//	          closed 160 s
func comparePair(t *testing.T, swap bool) *Comparison {
	t.Helper()
	up, ex, un := contract.OutcomeUpstream, contract.OutcomeExcerpts, contract.OutcomeUnavailable
	base := pairRun{
		reqs: []recording.Request{
			req(10*s, 100*ms, up, "healthy"), req(20*s, 100*ms, up, "healthy"), req(30*s, 100*ms, up, "healthy"), req(40*s, 100*ms, up, "healthy"),
			req(80*s, 10*ms, ex, "outage"), req(90*s, 10*ms, ex, "outage"), req(100*s, 5*ms, un, "outage"), req(110*s, 5*ms, un, "outage"),
			req(200*s, 200*ms, up, "recovery"), req(210*s, 200*ms, up, "recovery"),
		},
		trs: []recording.Transition{
			{T: 70 * s, From: "closed", To: "open"},
			{T: 130 * s, From: "open", To: "half-open"},
			{T: 160 * s, From: "half-open", To: "closed"},
		},
	}
	nw := pairRun{
		reqs: []recording.Request{
			req(10*s, 110*ms, up, "healthy"), req(20*s, 110*ms, up, "healthy"), req(30*s, 110*ms, up, "healthy"), req(40*s, 110*ms, up, "healthy"),
			req(80*s, 10*ms, ex, "outage"), req(90*s, 10*ms, ex, "outage"), req(100*s, 10*ms, ex, "outage"), req(110*s, 10*ms, ex, "outage"),
			req(200*s, 300*ms, up, "recovery"), req(210*s, 300*ms, up, "recovery"),
		},
	}
	for _, r := range []*pairRun{&base, &nw} {
		for _, at := range []time.Duration{10 * s, 20 * s, 30 * s, 40 * s} {
			r.calls = append(r.calls, upcall(at, "healthy", 200))
		}
	}
	for i := range 6 {
		base.calls = append(base.calls, upcall(time.Duration(61+i)*s, "outage", 503))
	}
	for i := range 3 {
		nw.calls = append(nw.calls, upcall(time.Duration(61+i)*s, "outage", 503))
	}
	for _, r := range []*pairRun{&base, &nw} {
		r.calls = append(r.calls, upcall(200*s, "recovery", 200), upcall(210*s, "recovery", 200))
	}
	dir := t.TempDir()
	bd, nd := filepath.Join(dir, "base"), filepath.Join(dir, "new")
	writePairRun(t, bd, base)
	writePairRun(t, nd, nw)
	if swap {
		bd, nd = nd, bd
	}
	c, err := Compare(bd, nd, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func findDiff(t *testing.T, c *Comparison, phase, metric string) MetricDiff {
	t.Helper()
	ds := c.Overall
	if phase != "" {
		ds = nil
		for _, p := range c.Phases {
			if p.Name == phase {
				ds = p.Metrics
			}
		}
	}
	for _, d := range ds {
		if d.Metric == metric {
			return d
		}
	}
	t.Fatalf("no %s in phase %q", metric, phase)
	return MetricDiff{}
}

func TestCompareKnownDifferences(t *testing.T) {
	c := comparePair(t, false)
	if c.Base.Label != "base" || c.New.Label != "new" {
		t.Errorf("labels %q, %q: want the folder names", c.Base.Label, c.New.Label)
	}
	inf := math.Inf(1)
	for _, tc := range []struct {
		phase, metric  string
		base, new, chg float64
		kind, text     string
	}{
		{"", "requests", 10, 10, 0, ChangeRelative, "0"},
		{"", "fallback_ratio", 0.2, 0.4, 20, ChangePP, "+20 pp"},
		{"", "unavailable_ratio", 0.2, 0, -20, ChangePP, "−20 pp"},
		{"", "success_ratio", 0.8, 1, 20, ChangePP, "+20 pp"},
		{"", "latency_p50", 0.1, 0.11, 0.1, ChangeRelative, "+10%"},
		{"", "latency_p99", 0.2, 0.3, 0.5, ChangeRelative, "+50%"},
		{"", "upstream_calls", 12, 9, -0.25, ChangeRelative, "−25%"},
		{"", "upstream_failures", 6, 3, -0.5, ChangeRelative, "−50%"},
		{"", "breaker_opens", 1, 0, -1, ChangeRelative, "−100%"},
		{"", "open_time_ratio", 60.0 / 270, 0, -100 * 60.0 / 270, ChangePP, "−22.22 pp"},
		{"", "time_to_open", 70, inf, inf, ChangeRelative, "to never"},
		{"outage", "fallback_ratio", 0.5, 1, 50, ChangePP, "+50 pp"},
		{"outage", "latency_p50", 0.005, 0.01, 1, ChangeRelative, "+100% (×2)"},
		{"healthy", "latency_p99", 0.1, 0.11, 0.1, ChangeRelative, "+10%"},
		{"recovery", "upstream_failures", 0, 0, 0, ChangeRelative, "0"},
		{"recovery", "latency_max", 0.2, 0.3, 0.5, ChangeRelative, "+50%"},
	} {
		d := findDiff(t, c, tc.phase, tc.metric)
		near := func(a, b float64) bool { return a == b || math.Abs(a-b) < 1e-9 }
		if !near(d.Base.numeric(), tc.base) || !near(d.New.numeric(), tc.new) || !near(d.Change, tc.chg) || d.ChangeKind != tc.kind || d.ChangeText() != tc.text {
			t.Errorf("%s{phase:%s}: base %v new %v change %v %s %q; want %v %v %v %s %q", tc.metric, tc.phase,
				d.Base.numeric(), d.New.numeric(), d.Change, d.ChangeKind, d.ChangeText(), tc.base, tc.new, tc.chg, tc.kind, tc.text)
		}
	}
	// Every metric, overall and in every phase.
	if len(c.Overall) != len(MetricNames) || len(c.Phases) != 3 {
		t.Fatalf("%d overall metrics, %d phases: want %d and 3", len(c.Overall), len(c.Phases), len(MetricNames))
	}
	for _, p := range c.Phases {
		if len(p.Metrics) != len(MetricNames) {
			t.Errorf("phase %s: %d metrics", p.Name, len(p.Metrics))
		}
	}
}

func TestChangeText(t *testing.T) {
	for _, tc := range []struct {
		base, new MetricValue
		want      string
	}{
		{MetricValue{Name: "latency_p50", Value: 2}, MetricValue{Name: "latency_p50", Value: 0.000527}, "−99.97% (÷3795)"},
		{MetricValue{Name: "latency_p50", Value: 2}, MetricValue{Name: "latency_p50", Value: 0.5}, "−75%"},
		{MetricValue{Name: "upstream_calls", Value: 100}, MetricValue{Name: "upstream_calls", Value: 350}, "+250% (×3.5)"},
		{MetricValue{Name: "upstream_calls", Value: 100}, MetricValue{Name: "upstream_calls", Value: 0}, "−100%"},
		{MetricValue{Name: "upstream_calls", Value: 0}, MetricValue{Name: "upstream_calls", Value: 5}, "from 0"},
		{MetricValue{Name: "latency_p50", NoData: true}, MetricValue{Name: "latency_p50", Value: 1}, "n/a"},
		{MetricValue{Name: "time_to_open", Never: true}, MetricValue{Name: "time_to_open", Value: 1}, "from never"},
		{MetricValue{Name: "time_to_open", Never: true}, MetricValue{Name: "time_to_open", Never: true}, "0"},
		{MetricValue{Name: "error_ratio", Value: 0.016}, MetricValue{Name: "error_ratio", Value: 0}, "−1.6 pp"},
	} {
		if got := diffOne(tc.base, tc.new).ChangeText(); got != tc.want {
			t.Errorf("%v → %v: %q, want %q", tc.base, tc.new, got, tc.want)
		}
	}
}

func TestCompareOutputs(t *testing.T) {
	c := comparePair(t, false)
	bounds, err := ParseBounds("latency_p99:+10%,fallback_ratio:+2pp,upstream_failures:+0")
	if err != nil {
		t.Fatal(err)
	}
	c.Judge(bounds)
	out := t.TempDir()
	files, err := c.WriteComparison(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("files %v", files)
	}
	b, err := os.ReadFile(filepath.Join(out, ComparePNG))
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, ComparePNG, b, chartWidth)

	js, err := os.ReadFile(filepath.Join(out, CompareJSON))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Base    struct{ Label string }
		Overall map[string]struct {
			Base, New  any
			Difference *float64
			Change     *float64
			ChangeUnit string `json:"change_unit"`
			Display    string
		}
		Phases []struct {
			Name    string
			Metrics map[string]json.RawMessage
		}
		FailOn []struct {
			Bound  string
			Failed bool
		} `json:"fail_on"`
		Passed bool
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatalf("compare.json: %v\n%s", err, js)
	}
	fr := doc.Overall["fallback_ratio"]
	if fr.Base != 0.2 || fr.New != 0.4 || fr.Change == nil || math.Abs(*fr.Change-20) > 1e-9 || fr.ChangeUnit != "pp" {
		t.Errorf("fallback_ratio in JSON: %+v", fr)
	}
	tto := doc.Overall["time_to_open"]
	if tto.New != "never" || tto.Change != nil || tto.Display != "to never" {
		t.Errorf("time_to_open in JSON: %+v", tto)
	}
	if len(doc.Overall) != len(MetricNames) || len(doc.Phases) != 3 || len(doc.Phases[1].Metrics) != len(MetricNames) {
		t.Errorf("JSON has %d overall metrics and %d phases", len(doc.Overall), len(doc.Phases))
	}
	if len(doc.FailOn) != 3 || !doc.FailOn[0].Failed || !doc.FailOn[1].Failed || doc.FailOn[2].Failed || doc.Passed {
		t.Errorf("fail_on in JSON: %+v, passed %v", doc.FailOn, doc.Passed)
	}
	md, err := os.ReadFile(filepath.Join(out, CompareMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| fallback_ratio | 20% | 40% | +20 pp |",
		"| latency_p99 | 200 ms | 300 ms | +50% |",
		"| time_to_open | 70 s | never | to never |",
		"## Phase outage",
		"- **Upstream**: calls 12 → 9 (−25%), failed calls 6 → 3 (−50%).",
		"- **Breaker**: opens 1 → 0 (−100%), open for 22.2% → 0% (−22.22 pp) of the run.",
		"- **Users**: success 80% → 100% (+20 pp), fallbacks 20% → 40% (+20 pp), 503s 20% → 0% (−20 pp); latency p50 100 ms → 110 ms (+10%), p99 200 ms → 300 ms (+50%).",
		"❌ 2 of 3 exceeded",
		"| `upstream_failures:+0` | 6 | 3 | −50% | ✅ holds |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("compare.md lacks %q:\n%s", want, md)
		}
	}
}

// TestFailOn trips each kind of bound just past the change the pair
// shows, and not at it.
func TestFailOn(t *testing.T) {
	c := comparePair(t, false)
	rev := comparePair(t, true)
	for _, tc := range []struct {
		bound string
		swap  bool
		fails bool
	}{
		{"latency_p99:+50%", false, false},
		{"latency_p99:+49.9%", false, true},
		{"latency_p99:-1%", false, false}, // it rose
		{"latency_p99:-33%", true, true},  // 300 → 200 ms is −33.3%
		{"latency_p99:-33.4%", true, false},
		{"fallback_ratio:+20pp", false, false},
		{"fallback_ratio:+19.9pp", false, true},
		{"unavailable_ratio:-20pp", false, false},
		{"unavailable_ratio:-19pp", false, true},
		{"unavailable_ratio:+0pp", false, false},
		{"unavailable_ratio:+0pp", true, true},
		{"upstream_failures:+0", false, false},
		{"upstream_failures:+0", true, true},
		{"upstream_failures:+3", true, false},
		{"upstream_failures:+2", true, true},
		{"upstream_failures:-2", false, true},
		{"upstream_failures:-3", false, false},
		{"latency_p50{phase:healthy}:+10ms", false, false},
		{"latency_p50{phase:healthy}:+9ms", false, true},
		{"latency_p50{phase:outage}:+100%", false, false},
		{"latency_p50{phase:outage}:+99%", false, true},
		{"requests:+0", false, false},
		{"breaker_opens:+0", true, true}, // from 0: any increase trips
		{"breaker_opens:+1000%", true, true},
		{"time_to_open:+0s", false, true}, // to never
		{"time_to_open:+0s", true, false},
		{"rps:+0", false, false},
		{"latency_p99{phase:nosuch}:+100%", false, true}, // cannot be judged
	} {
		bs, err := ParseBounds(tc.bound)
		if err != nil {
			t.Errorf("%s: %v", tc.bound, err)
			continue
		}
		cmp := c
		if tc.swap {
			cmp = rev
		}
		cmp.Judge(bs)
		if got := cmp.Bounds[0].Failed; got != tc.fails || cmp.Passed() == tc.fails {
			t.Errorf("%s (swap %v): failed %v, want %v: %s", tc.bound, tc.swap, got, tc.fails, cmp.Bounds[0].Message)
		}
	}
}

func TestParseBounds(t *testing.T) {
	bs, err := ParseBounds(" latency_p99:+10%, fallback_ratio{phase:outage}:+2pp ,upstream_failures:+0,latency_max:-50ms,success_ratio:−1pp")
	if err != nil {
		t.Fatal(err)
	}
	want := []Bound{
		{Metric: "latency_p99", Up: true, Amount: 0.1, Kind: ChangeRelative},
		{Metric: "fallback_ratio", Phase: "outage", Up: true, Amount: 2, Kind: ChangePP},
		{Metric: "upstream_failures", Up: true, Amount: 0},
		{Metric: "latency_max", Up: false, Amount: 0.05},
		{Metric: "success_ratio", Up: false, Amount: 1, Kind: ChangePP},
	}
	if len(bs) != len(want) {
		t.Fatalf("got %d bounds", len(bs))
	}
	for i, w := range want {
		g := bs[i]
		if g.Metric != w.Metric || g.Phase != w.Phase || g.Up != w.Up || math.Abs(g.Amount-w.Amount) > 1e-12 || g.Kind != w.Kind {
			t.Errorf("bound %d: %+v, want %+v", i, g, w)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "empty list"},
		{"latency_p99", "no ':'"},
		{"latency_p99:10%", "start it with +"},
		{"latency_p98:+10%", `unknown metric "latency_p98"`},
		{"fallback_ratio:+2%", "percentage points"},
		{"fallback_ratio:+0.02", "percentage points"},
		{"latency_p99:+2pp", "not a ratio"},
		{"latency_p99:+10", "is a duration"},
		{"upstream_failures:+x", `"x" is not a number`},
		{"upstream_failures:+", "no number"},
		{"upstream_failures:+-1", "not be negative"},
		{"latency_p99{window:5s}:+1%", "{phase:NAME}"},
		{"latency_p99{phase:a:+1%", "{phase:NAME}"},
		{"latency_p99:+10%,,requests:+0", "bound 2"},
		{"requests:+Inf", "not a number"},
	} {
		_, err := ParseBounds(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseBounds(%q) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

// FuzzParseBounds: the parser never panics, and what it accepts is a known
// metric with a finite, non-negative amount of a kind that fits its unit.
func FuzzParseBounds(f *testing.F) {
	for _, s := range []string{
		"latency_p99:+10%,fallback_ratio:+2pp,upstream_failures:+0",
		"latency_p50{phase:outage}:-5ms", "success_ratio:−1pp", "a{{b}}:c", "{:}", ",,", "rps:+1e308", "x:+NaN",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bs, err := ParseBounds(s)
		if err != nil {
			return
		}
		for _, b := range bs {
			if !slices.Contains(MetricNames, b.Metric) {
				t.Errorf("%q: accepted unknown metric %q", s, b.Metric)
			}
			if math.IsNaN(b.Amount) || math.IsInf(b.Amount, 0) || b.Amount < 0 {
				t.Errorf("%q: amount %v", s, b.Amount)
			}
			if (b.Kind == ChangePP) != (changeKind(b.Metric) == ChangePP) {
				t.Errorf("%q: kind %q for %s", s, b.Kind, b.Metric)
			}
		}
	})
}
