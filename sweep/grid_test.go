package sweep

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"brownout/scenarios"
)

func TestCellNames(t *testing.T) {
	tests := []struct {
		s    Settings
		want string
	}{
		{Settings{FailThreshold: 5, ResetTimeout: 30 * time.Second}, "ft5-rt30s"},
		{Settings{FailThreshold: 20, ResetTimeout: 90 * time.Second}, "ft20-rt90s"},
		{Settings{FailThreshold: 3, ResetTimeout: 500 * time.Millisecond}, "ft3-rt500ms"},
		{Settings{FailThreshold: 3, ResetTimeout: 1500 * time.Millisecond}, "ft3-rt1.5s"},
		{Settings{FailThreshold: 5, ResetTimeout: time.Minute, Policy: "ratio", FailureRatio: 0.5, HalfOpenMax: 2}, "ft5-rt60s-ratio-fr50-hom2"},
		{Settings{FailThreshold: 5, ResetTimeout: time.Minute, Replicas: 8, Store: "redis"}, "ft5-rt60s-rep8-redis"},
	}
	for _, tc := range tests {
		if got := tc.s.Name(); got != tc.want {
			t.Errorf("%+v.Name() = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestGridCellsOrderAndLabels(t *testing.T) {
	g := Grid{FailThresholds: []int{3, 10}, ResetTimeouts: []time.Duration{10 * time.Second, 30 * time.Second}, Policies: []string{"consecutive", "ratio"}}
	var names []string
	for _, c := range g.Cells() {
		names = append(names, c.Name())
	}
	want := []string{
		"ft3-rt10s-consecutive", "ft3-rt30s-consecutive", "ft10-rt10s-consecutive", "ft10-rt30s-consecutive",
		"ft3-rt10s-ratio", "ft3-rt30s-ratio", "ft10-rt10s-ratio", "ft10-rt30s-ratio",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"consecutive ft 3", "consecutive ft 10", "ratio ft 3", "ratio ft 10"}, g.RowLabels()); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"rt 10s", "rt 30s"}, g.ColLabels()); diff != "" {
		t.Errorf("cols (-want +got):\n%s", diff)
	}
}

// The replica and store axes are the outermost rows, store first, and
// their values reach the cell's scenario.
func TestGridReplicaAndStoreAxes(t *testing.T) {
	g := Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{30 * time.Second}, Replicas: []int{1, 8}, Stores: []string{"local", "redis"}}
	want := []string{"local rep 1 ft 5", "local rep 8 ft 5", "redis rep 1 ft 5", "redis rep 8 ft 5"}
	if diff := cmp.Diff(want, g.RowLabels()); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	sc, err := scenarios.Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	last := g.Cells()[3]
	c, err := last.Apply(sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Assistant.Replicas != 8 || c.Breaker.Store != "redis" || sc.Assistant.Replicas != 1 {
		t.Errorf("cell %s: replicas %d store %q (scenario's replicas now %d)", last.Name(), c.Assistant.Replicas, c.Breaker.Store, sc.Assistant.Replicas)
	}
}

func TestGridValidate(t *testing.T) {
	ok := Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid grid: %v", err)
	}
	tests := []struct {
		g    Grid
		want string
	}{
		{Grid{ResetTimeouts: []time.Duration{time.Second}}, "fail thresholds: need at least one"},
		{Grid{FailThresholds: []int{5}}, "reset timeouts: need at least one"},
		{Grid{FailThresholds: []int{0}, ResetTimeouts: []time.Duration{time.Second}}, "fail threshold 0: want 1 to 10000"},
		{Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{-time.Second}}, "want more than 0"},
		{Grid{FailThresholds: []int{5, 5}, ResetTimeouts: []time.Duration{time.Second}}, "fail threshold 5: given twice"},
		{Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}, Policies: []string{"sometimes"}}, `policy "sometimes"`},
		{Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}, FailureRatios: []float64{1.5}}, "failure ratio 1.5: must be in (0, 1]"},
		{Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}, HalfOpenMax: []int{0}}, "half-open max 0"},
		{Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}, Replicas: []int{0}}, "replicas 0: want 1 to 64"},
		{Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}, Stores: []string{"memcached"}}, `store "memcached": want local or redis`},
		{Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}, Stores: []string{"redis", "redis"}}, "store redis: given twice"},
	}
	for _, tc := range tests {
		err := tc.g.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.g, err, tc.want)
		}
	}
}

func TestApplyDeepCopies(t *testing.T) {
	sc, err := scenarios.Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	before := sc.Breaker
	phases := len(sc.Phases[1].Faults)
	c, err := Settings{FailThreshold: 9, ResetTimeout: 7 * time.Second, HalfOpenMax: 3}.Apply(sc, 99)
	if err != nil {
		t.Fatal(err)
	}
	if c.Breaker.FailThreshold != 9 || c.Breaker.ResetTimeout.D() != 7*time.Second || c.Breaker.HalfOpenMaxRequests != 3 || c.Seed != 99 {
		t.Errorf("applied breaker %+v seed %d", c.Breaker, c.Seed)
	}
	if c.Breaker.Policy != before.Policy {
		t.Errorf("policy changed to %q though the cell keeps the scenario's", c.Breaker.Policy)
	}
	c.Phases[1].Faults = nil
	if sc.Breaker != before || len(sc.Phases[1].Faults) != phases {
		t.Error("Apply changed the scenario it copied")
	}
	if _, err := (Settings{FailThreshold: 0, ResetTimeout: time.Second}).Apply(sc, 1); err == nil {
		t.Error("fail threshold 0 accepted")
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		metric string
		v      float64
		want   string
	}{
		{Availability, 0.9912, "99.1%"},
		{"latency_p99", 0.0875, "87.5 ms"},
		{"latency_p99", 1.234, "1.23 s"},
		{TimeToCloseRecovery, 31, "31 s"},
		{TimeToCloseRecovery, 0, "0 s"},
		{TimeToCloseRecovery, math.Inf(1), "never"},
		{"upstream_failures", 42, "42"},
		{"upstream_failures", 42.5, "42.5"},
		{"rps", 20, "20/s"},
		{"latency_p99", math.NaN(), "no data"},
	}
	for _, tc := range tests {
		if got := FormatValue(tc.metric, tc.v); got != tc.want {
			t.Errorf("FormatValue(%s, %v) = %q, want %q", tc.metric, tc.v, got, tc.want)
		}
	}
}

func TestTimeScaleLimits(t *testing.T) {
	sc, err := scenarios.Builtin("hard-outage") // latency_p99{phase:outage} < 100ms, time_to_open{phase:outage} < 2s
	if err != nil {
		t.Fatal(err)
	}
	// Latency thresholds no longer limit the scale: local work is not
	// scaled. A breaker time still warns once it is under 10 ms real.
	if w := TimeScaleWarnings(sc, 50); len(w) != 0 {
		t.Errorf("warnings at 50: %q", w)
	}
	if w := TimeScaleWarnings(sc, 250); len(w) != 1 || !strings.Contains(w[0], "time_to_open{phase:outage} < 2s is 8ms of real time at time scale 250") {
		t.Errorf("warnings at 250: %q", w)
	}
	// A 200 ms reset timeout allows at most 20 (10 ms of real time).
	g := Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{10 * time.Second}}
	short := Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{200 * time.Millisecond, 10 * time.Second}}
	for _, tc := range []struct {
		g    Grid
		k    float64
		want bool
	}{{g, 100, true}, {short, 20, true}, {short, 25, false}} {
		if got := CellsAccept(sc, tc.g)(tc.k); got != tc.want {
			t.Errorf("CellsAccept(%v)(%g) = %v, want %v", tc.g.ResetTimeouts, tc.k, got, tc.want)
		}
	}
}

// TestWindowAndIntervalAxes: --window and --interval sweep how the closed
// state counts; 0 is a value (no window, counts never cleared), a positive
// window clears the scenario's interval and vice versa, and a grid takes
// only one of the two axes.
func TestWindowAndIntervalAxes(t *testing.T) {
	sc, err := scenarios.Builtin("gradual-degradation") // window 60s, buckets 6
	if err != nil {
		t.Fatal(err)
	}
	g := Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{30 * time.Second}, Windows: []time.Duration{0, 30 * time.Second}}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	cells := g.Cells()
	var names []string
	for _, c := range cells {
		names = append(names, c.Name())
	}
	if diff := cmp.Diff([]string{"ft5-rt30s-w0s", "ft5-rt30s-w30s"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"w 0s ft 5", "w 30s ft 5"}, g.RowLabels()); diff != "" {
		t.Errorf("row labels (-want +got):\n%s", diff)
	}
	none, err := cells[0].Apply(sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if none.Breaker.Window != 0 || none.Breaker.Interval != 0 {
		t.Errorf("window 0: breaker %+v, want no window and no interval", none.Breaker)
	}
	w30, err := cells[1].Apply(sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if w30.Breaker.Window.D() != 30*time.Second || w30.Breaker.Buckets != 6 {
		t.Errorf("window 30s: breaker %+v", w30.Breaker)
	}
	iv := Settings{FailThreshold: 5, ResetTimeout: time.Minute, Interval: time.Minute, HasInterval: true}
	fixed, err := iv.Apply(sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if fixed.Breaker.Interval.D() != time.Minute || fixed.Breaker.Window != 0 || iv.Name() != "ft5-rt60s-iv60s" {
		t.Errorf("interval 60s (%s): breaker %+v, want the interval and no window", iv.Name(), fixed.Breaker)
	}
	for _, bad := range []Grid{
		{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}, Windows: []time.Duration{time.Minute}, Intervals: []time.Duration{time.Minute}},
		{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}, Windows: []time.Duration{-time.Second}},
		{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{time.Second}, Intervals: []time.Duration{time.Minute, time.Minute}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestCellVerdict(t *testing.T) {
	failed := []ThresholdResult{{Passed: false}}
	for _, tc := range []struct {
		c    Cell
		want string
	}{
		{Cell{Passed: true, Runs: []RunResult{{Passed: true}}}, "pass"},
		{Cell{Runs: []RunResult{{Distorted: true}}}, "DISTORTED"},
		{Cell{Thresholds: failed, Runs: []RunResult{{Distorted: true}}}, "FAIL 1, distorted"},
		{Cell{Thresholds: failed, Runs: []RunResult{{}}}, "FAIL 1"},
	} {
		if got := tc.c.Verdict(); got != tc.want {
			t.Errorf("%+v: verdict %q, want %q", tc.c, got, tc.want)
		}
	}
}
