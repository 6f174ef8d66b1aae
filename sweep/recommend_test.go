package sweep

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cell builds a finished cell by hand: its metrics (missing ones are not
// measured; +Inf stands for "never") and the threshold conditions it failed
// out of all.
func cell(name string, metrics map[string]float64, failed ...string) Cell {
	c := Cell{Name: name, Status: CellDone, Passed: len(failed) == 0, Stats: make([]Stat, len(MetricNames))}
	for i, m := range MetricNames {
		v, ok := metrics[m]
		switch {
		case !ok:
			c.Stats[i] = Stat{Mean: math.NaN(), Min: math.NaN(), Max: math.NaN()}
		case math.IsInf(v, 1):
			c.Stats[i] = Stat{Mean: math.NaN(), Min: math.NaN(), Max: math.NaN(), Never: 1}
		default:
			c.Stats[i] = Stat{Mean: v, Min: v, Max: v, N: 1}
		}
	}
	all := []string{"a < 1", "b > 2", "c == 0"}
	for _, th := range all {
		passed := true
		for _, f := range failed {
			if f == th {
				passed = false
			}
		}
		n := 0
		if passed {
			n = 1
		}
		c.Thresholds = append(c.Thresholds, ThresholdResult{Name: th, Passes: n, Runs: 1, Passed: passed})
	}
	return c
}

func interrupted(name string) Cell { return Cell{Name: name, Status: CellInterrupted} }

func m(ttc, fails float64) map[string]float64 {
	return map[string]float64{TimeToCloseRecovery: ttc, "upstream_failures": fails, Availability: 0.99, "latency_p99": 0.05}
}

func TestRecommend(t *testing.T) {
	never := math.Inf(1)
	byAvailability, err := ParseObjective("availability")
	if err != nil {
		t.Fatal(err)
	}
	byP99, err := ParseObjective("latency_p99")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cells     []Cell
		obj       []Objective
		best      string
		runnerUp  string
		ranked    []string
		failEvery []string
		closest   string
		whyHas    []string
	}{
		{
			name:     "least time to close wins",
			cells:    []Cell{cell("ft5-rt60s", m(62, 20)), cell("ft5-rt10s", m(11, 40)), cell("ft5-rt30s", m(31, 25))},
			best:     "ft5-rt10s",
			runnerUp: "ft5-rt30s",
			ranked:   []string{"ft5-rt10s", "ft5-rt30s", "ft5-rt60s"},
			whyHas: []string{"3 of 3 cells pass", "less time_to_close_recovery (11 s) than the runner-up ft5-rt30s (31 s)",
				"The runner-up does better on upstream_failures 25 against 40"},
		},
		{
			name:     "tie on time to close falls to fewer upstream failures",
			cells:    []Cell{cell("ft10-rt10s", m(11, 40)), cell("ft3-rt10s", m(11, 12)), cell("ft5-rt30s", m(31, 5))},
			best:     "ft3-rt10s",
			runnerUp: "ft10-rt10s",
			ranked:   []string{"ft3-rt10s", "ft10-rt10s", "ft5-rt30s"},
			whyHas:   []string{"They tie on time_to_close_recovery 11 s", "less upstream_failures (12) than the runner-up ft10-rt10s (40)"},
		},
		{
			name:     "full tie keeps grid order",
			cells:    []Cell{cell("a", m(11, 4)), cell("b", m(11, 4))},
			best:     "a",
			runnerUp: "b",
			ranked:   []string{"a", "b"},
			whyHas:   []string{"tie on every objective", "a comes first in grid order"},
		},
		{
			name:     "never closing ranks last",
			cells:    []Cell{cell("x", m(never, 1)), cell("y", m(50, 90))},
			best:     "y",
			runnerUp: "x",
			ranked:   []string{"y", "x"},
			whyHas:   []string{"(50 s) than the runner-up x (never)"},
		},
		{
			name:     "failing and interrupted cells are not recommended",
			cells:    []Cell{cell("fast-but-fails", m(1, 1), "b > 2"), interrupted("unfinished"), cell("ok", m(40, 30)), cell("ok2", m(45, 30))},
			best:     "ok",
			runnerUp: "ok2",
			ranked:   []string{"ok", "ok2"},
			whyHas:   []string{"2 of 3 cells pass"},
		},
		{
			name:   "single passing cell has no runner-up",
			cells:  []Cell{cell("p", m(40, 30)), cell("f", m(10, 3), "a < 1")},
			best:   "p",
			ranked: []string{"p"},
			whyHas: []string{"p is the only cell of 2"},
		},
		{
			name: "higher availability is better",
			cells: []Cell{
				cell("lo", map[string]float64{Availability: 0.90, TimeToCloseRecovery: 1}),
				cell("hi", map[string]float64{Availability: 0.99, TimeToCloseRecovery: 50}),
			},
			obj:      byAvailability,
			best:     "hi",
			runnerUp: "lo",
			ranked:   []string{"hi", "lo"},
			whyHas:   []string{"hi has more availability (99%) than the runner-up lo (90%)"},
		},
		{
			name: "lower p99 is better, then the default tie-breakers",
			cells: []Cell{
				cell("slow", map[string]float64{"latency_p99": 0.5, TimeToCloseRecovery: 1}),
				cell("fast-late", map[string]float64{"latency_p99": 0.1, TimeToCloseRecovery: 60}),
				cell("fast-soon", map[string]float64{"latency_p99": 0.1, TimeToCloseRecovery: 20}),
			},
			obj:      byP99,
			best:     "fast-soon",
			runnerUp: "fast-late",
			ranked:   []string{"fast-soon", "fast-late", "slow"},
			whyHas:   []string{"They tie on latency_p99 100 ms"},
		},
		{
			name:     "durations within the timing resolution tie",
			cells:    []Cell{cell("ft3-rt30s", m(2.11, 20)), cell("ft3-rt10s", m(2.18, 10)), cell("ft3-rt60s", m(32, 5))},
			obj:      []Objective{{Metric: TimeToCloseRecovery, Tolerance: 0.1}, {Metric: "upstream_failures"}},
			best:     "ft3-rt10s",
			runnerUp: "ft3-rt30s",
			ranked:   []string{"ft3-rt10s", "ft3-rt30s", "ft3-rt60s"},
			whyHas:   []string{"They tie on time_to_close_recovery (2.18 s and 2.11 s, within the 100 ms timing resolution); ft3-rt10s has less upstream_failures (10)"},
		},
		{
			name:      "none passes: the threshold failing everywhere is named",
			cells:     []Cell{cell("a", m(10, 1), "a < 1", "b > 2"), cell("b", m(20, 1), "b > 2"), interrupted("c"), cell("d", m(5, 1), "b > 2", "c == 0")},
			failEvery: []string{"b > 2"},
			closest:   "b",
			whyHas:    []string{"No cell of 3 passes", "Failing in every cell: b > 2", "Closest: b, failing b > 2"},
		},
		{
			name:    "none passes, no threshold fails everywhere",
			cells:   []Cell{cell("a", m(10, 1), "a < 1"), cell("b", m(5, 1), "b > 2")},
			closest: "b",
			whyHas:  []string{"no threshold fails in every cell", "Closest: b, failing b > 2"},
		},
		{
			name:   "nothing finished",
			cells:  []Cell{interrupted("a")},
			whyHas: []string{"no cell finished"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := tc.obj
			if obj == nil {
				obj = DefaultObjective
			}
			rec := Recommend(tc.cells, obj)
			if rec.Best != tc.best || rec.RunnerUp != tc.runnerUp {
				t.Errorf("best, runner-up = %q, %q; want %q, %q", rec.Best, rec.RunnerUp, tc.best, tc.runnerUp)
			}
			if diff := cmp.Diff(tc.ranked, rec.Ranked); diff != "" {
				t.Errorf("ranked (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.failEvery, rec.FailingEverywhere); diff != "" {
				t.Errorf("failing everywhere (-want +got):\n%s", diff)
			}
			if rec.Closest != tc.closest {
				t.Errorf("closest = %q, want %q", rec.Closest, tc.closest)
			}
			for _, s := range tc.whyHas {
				if !strings.Contains(rec.Why, s) {
					t.Errorf("why %q\ndoes not say %q", rec.Why, s)
				}
			}
		})
	}
}

func TestParseObjective(t *testing.T) {
	tests := []struct {
		in      string
		want    []Objective
		wantErr string
	}{
		{"time_to_close", DefaultObjective, ""},
		{"latency_p99", []Objective{{Metric: "latency_p99", HigherIsBetter: false}, {Metric: TimeToCloseRecovery, HigherIsBetter: false}, {Metric: "upstream_failures", HigherIsBetter: false}}, ""},
		{"availability, upstream_failures", []Objective{{Metric: Availability, HigherIsBetter: true}, {Metric: "upstream_failures", HigherIsBetter: false}, {Metric: TimeToCloseRecovery, HigherIsBetter: false}}, ""},
		{"fallback_ratio", []Objective{{Metric: "fallback_ratio", HigherIsBetter: true}, {Metric: TimeToCloseRecovery, HigherIsBetter: false}, {Metric: "upstream_failures", HigherIsBetter: false}}, ""},
		{"latency_p42", nil, `objective "latency_p42": unknown metric`},
		{"", nil, `objective "": unknown metric`},
	}
	for _, tc := range tests {
		got, err := ParseObjective(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseObjective(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseObjective(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseObjective(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestHigherIsBetter(t *testing.T) {
	for metric, want := range map[string]bool{
		Availability: true, "success_ratio": true, "fallback_ratio": true, "upstream_ratio": true,
		"latency_p99": false, "time_to_open": false, TimeToCloseRecovery: false, "upstream_failures": false,
		"unavailable_ratio": false, "error_ratio": false, HalfOpenProbes: false,
	} {
		if got := HigherIsBetter(metric); got != want {
			t.Errorf("HigherIsBetter(%q) = %v, want %v", metric, got, want)
		}
	}
}

// FuzzParseObjective: any input either parses into known metrics, each
// once, with their own direction, or is refused with an error; it never
// panics.
func FuzzParseObjective(f *testing.F) {
	for _, s := range []string{"time_to_close", "latency_p99", "availability,upstream_failures", "", ",", "latency_p99,latency_p99", " fallback_ratio ", "nope", "time_to_close,time_to_close_recovery"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		obj, err := ParseObjective(s)
		if err != nil {
			if obj != nil {
				t.Errorf("ParseObjective(%q) returned %v with error %v", s, obj, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, o := range obj {
			if !KnownMetric(o.Metric) || seen[o.Metric] || o.HigherIsBetter != HigherIsBetter(o.Metric) {
				t.Errorf("ParseObjective(%q) = %+v", s, obj)
			}
			seen[o.Metric] = true
		}
		for _, d := range DefaultObjective {
			if !seen[d.Metric] {
				t.Errorf("ParseObjective(%q) = %+v lacks the tie-breaker %s", s, obj, d.Metric)
			}
		}
	})
}

// seeded builds a finished, passing cell from per-seed values of time to
// close after recovery and upstream failures (seeds 1, 2, …), aggregated
// the way a sweep does.
func seeded(name string, ttc, fails []float64) Cell {
	c := Cell{Name: name}
	for i := range ttc {
		vals := make([]Value, len(MetricNames))
		for k := range vals {
			vals[k] = Value{V: math.NaN()}
		}
		vals[metricIndex(TimeToCloseRecovery)] = Value{V: ttc[i], Never: math.IsInf(ttc[i], 1)}
		vals[metricIndex("upstream_failures")] = Value{V: fails[i]}
		c.Runs = append(c.Runs, RunResult{Seed: int64(i + 1), Passed: true, Values: vals})
	}
	c.finish()
	return c
}

func TestRecommendPairedBySeed(t *testing.T) {
	five := func(v float64) []float64 { return []float64{v, v, v, v, v} }
	tests := []struct {
		name           string
		cells          []Cell
		best, runnerUp string
		whyHas         []string
		sureHas        string
		wins, losses   int
	}{
		{
			// By the means alone b would win on time to close (23.2 s
			// against 24 s), but the seeds disagree (a is better on 3, worse
			// on 2) by far more than the means differ: a tie, so the next
			// criterion decides.
			name: "seeds disagree: a tie, the next criterion decides",
			cells: []Cell{
				seeded("b", []float64{30, 15, 35, 14, 22}, five(9)),
				seeded("a", []float64{10, 40, 12, 38, 20}, five(5)),
			},
			best: "a", runnerUp: "b",
			whyHas:  []string{"They tie on time_to_close_recovery (24 s and 23.2 s; seed by seed, a was better on 3 of 5 seeds, worse on 2", "within the seeds' spread", "a has less upstream_failures (5) than the runner-up b (9); seed by seed, a was better on 5 of 5 seeds"},
			sureHas: "How sure: confident: a beat b on upstream_failures on every one of the 5 seeds.",
			wins:    5,
		},
		{
			// The incidents vary far more than the settings do, but a is
			// better on every seed: paired, that is a clear win.
			name: "better on every seed despite a wide spread",
			cells: []Cell{
				seeded("b", []float64{11, 52, 21, 41, 33}, five(5)),
				seeded("a", []float64{10, 50, 20, 40, 30}, five(9)),
			},
			best: "a", runnerUp: "b",
			whyHas:  []string{"a has less time_to_close_recovery (30 s) than the runner-up b (31.6 s); seed by seed, a was better on 5 of 5 seeds"},
			sureHas: "on every one of the 5 seeds",
			wins:    5,
		},
		{
			name: "better on most seeds by more than the spread",
			cells: []Cell{
				seeded("a", []float64{10, 10, 10, 10, 30}, five(5)),
				seeded("b", []float64{20, 20, 20, 20, 25}, five(5)),
			},
			best: "a", runnerUp: "b",
			sureHas: "How sure: somewhat: a beat b on time_to_close_recovery on 4 of 5 seeds but lost on 1; its mean advantage (7 s) exceeds the seeds' spread (6.71 s).",
			wins:    4, losses: 1,
		},
		{
			name: "level on every criterion",
			cells: []Cell{
				seeded("a", []float64{10, 40, 12, 38, 20}, []float64{5, 9, 5, 9, 5}),
				seeded("b", []float64{30, 15, 35, 14, 22}, []float64{9, 5, 9, 5, 9}),
			},
			best: "b", runnerUp: "a", // b's mean time to close is lower
			whyHas:  []string{"are level on every objective", "either will do"},
			sureHas: "How sure: not at all: b and a are level within the seeds' spread on every criterion over 5 seeds",
			wins:    2, losses: 3,
		},
		{
			name:  "one seed: sureness not measured",
			cells: []Cell{seeded("a", []float64{10}, []float64{1}), seeded("b", []float64{20}, []float64{1})},
			best:  "a", runnerUp: "b",
			sureHas: "How sure: not measured",
		},
		{
			name: "never closing loses on that seed",
			cells: []Cell{
				seeded("b", []float64{math.Inf(1), 12, 12}, []float64{1, 1, 1}),
				seeded("a", []float64{30, 11, 11}, []float64{1, 1, 1}),
			},
			best: "a", runnerUp: "b",
			sureHas: "on every one of the 3 seeds",
			wins:    3,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := Recommend(tc.cells, DefaultObjective)
			if rec.Best != tc.best || rec.RunnerUp != tc.runnerUp {
				t.Fatalf("best, runner-up = %q, %q; want %q, %q (why: %s)", rec.Best, rec.RunnerUp, tc.best, tc.runnerUp, rec.Why)
			}
			for _, s := range tc.whyHas {
				if !strings.Contains(rec.Why, s) {
					t.Errorf("why %q\ndoes not say %q", rec.Why, s)
				}
			}
			if !strings.Contains(rec.Sureness, tc.sureHas) {
				t.Errorf("sureness %q\ndoes not say %q", rec.Sureness, tc.sureHas)
			}
			if tc.wins+tc.losses > 0 && (rec.Paired == nil || rec.Paired.Wins != tc.wins || rec.Paired.Losses != tc.losses) {
				t.Errorf("paired = %+v, want %d wins and %d losses", rec.Paired, tc.wins, tc.losses)
			}
		})
	}
}

func TestPairedVerdict(t *testing.T) {
	for _, tc := range []struct {
		p    Paired
		want int
	}{
		{Paired{Seeds: 5, Ties: 5, Advantage: 0, Spread: 0}, 0},
		{Paired{Seeds: 5, Wins: 1, Ties: 4, Advantage: 0.2, Spread: 0.4}, -1},
		{Paired{Seeds: 5, Losses: 5, Advantage: -3, Spread: 1}, 1},
		{Paired{Seeds: 5, Wins: 3, Losses: 2, Advantage: 1, Spread: 5}, 0},
		{Paired{Seeds: 5, Wins: 3, Losses: 2, Advantage: 6, Spread: 5}, -1},
		{Paired{Seeds: 5, Wins: 2, Losses: 3, Advantage: -6, Spread: 5}, 1},
		{Paired{Seeds: 3, Wins: 2, Losses: 1, Advantage: math.NaN(), Spread: math.NaN()}, 0},
	} {
		if got := tc.p.verdict(); got != tc.want {
			t.Errorf("%+v: verdict %d, want %d", tc.p, got, tc.want)
		}
	}
}
