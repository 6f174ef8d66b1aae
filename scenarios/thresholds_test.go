package scenarios

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseThreshold(t *testing.T) {
	for _, tc := range []struct {
		key   string
		conds []string
		want  Threshold // Key and Conditions[].Raw are filled from the input
	}{
		{"requests", []string{">= 100"}, Threshold{Metric: "requests", Conditions: []Condition{{Op: ">=", Value: 100}}}},
		{"rps", []string{"> 20", "< 20/s", "<= 600/m"}, Threshold{Metric: "rps", Conditions: []Condition{{Op: ">", Value: 20}, {Op: "<", Value: 20}, {Op: "<=", Value: 10}}}},
		{"unavailable_ratio", []string{"< 1%", "<= 0.01", "== 0", "!= 100%"}, Threshold{Metric: "unavailable_ratio", Conditions: []Condition{{Op: "<", Value: 0.01}, {Op: "<=", Value: 0.01}, {Op: "==", Value: 0}, {Op: "!=", Value: 1}}}},
		{"latency_p99{phase:outage}", []string{"< 100ms", "<2s", "  >=  1m  ", "== 0"}, Threshold{Metric: "latency_p99", Filters: Filters{Phase: "outage"}, Conditions: []Condition{{Op: "<", Value: 0.1}, {Op: "<", Value: 2}, {Op: ">=", Value: 60}, {Op: "==", Value: 0}}}},
		{" latency_max { phase : a , breaker : half-open , outcome : l1_cache , window : 30s } ", []string{"< 1s"}, Threshold{Metric: "latency_max", Filters: Filters{Phase: "a", Breaker: "half-open", Outcome: "l1_cache", Window: 30 * time.Second}, Conditions: []Condition{{Op: "<", Value: 1}}}},
		{"upstream_calls{breaker:open}", []string{"== 0"}, Threshold{Metric: "upstream_calls", Filters: Filters{Breaker: "open"}, Conditions: []Condition{{Op: "==", Value: 0}}}},
		{"time_to_close{phase:recovery}", []string{"< 70s"}, Threshold{Metric: "time_to_close", Filters: Filters{Phase: "recovery"}, Conditions: []Condition{{Op: "<", Value: 70}}}},
		{"open_time_ratio{window:1m}", []string{"<= 50%"}, Threshold{Metric: "open_time_ratio", Filters: Filters{Window: time.Minute}, Conditions: []Condition{{Op: "<=", Value: 0.5}}}},
		{"upstream_failures{replica: 3, phase:outage}", []string{"<= 5"}, Threshold{Metric: "upstream_failures", Filters: Filters{Phase: "outage", Replica: 3}, Conditions: []Condition{{Op: "<=", Value: 5}}}},
		{"breaker_opens{replica:64}", []string{">= 1"}, Threshold{Metric: "breaker_opens", Filters: Filters{Replica: 64}, Conditions: []Condition{{Op: ">=", Value: 1}}}},
	} {
		got, err := ParseThreshold(tc.key, tc.conds)
		if err != nil {
			t.Errorf("ParseThreshold(%q, %q): %v", tc.key, tc.conds, err)
			continue
		}
		want := tc.want
		want.Key = tc.key
		for i := range want.Conditions {
			want.Conditions[i].Raw = tc.conds[i]
		}
		if got.Key != want.Key || got.Metric != want.Metric || got.Filters != want.Filters || len(got.Conditions) != len(want.Conditions) {
			t.Errorf("ParseThreshold(%q) = %+v, want %+v", tc.key, got, want)
			continue
		}
		for i, c := range got.Conditions {
			w := want.Conditions[i]
			if c.Op != w.Op || c.Raw != w.Raw || math.Abs(c.Value-w.Value) > 1e-12 {
				t.Errorf("ParseThreshold(%q) condition %d = %+v, want %+v", tc.key, i, c, w)
			}
		}
	}
}

func TestEveryMetricParses(t *testing.T) {
	sample := map[Unit]string{UnitCount: ">= 1", UnitRatio: "< 5%", UnitDuration: "< 1s", UnitRate: "> 1/s"}
	for name, u := range Metrics {
		if _, err := ParseThreshold(name, []string{sample[u]}); err != nil {
			t.Errorf("metric %s (%v): %v", name, u, err)
		}
	}
	if len(Metrics) != 38 {
		t.Errorf("%d metrics, want the 23 of the reports issue, the 7 time-compression checks, failures_before_all_open (replicas) and 7 of load shortfall (issue 11)", len(Metrics))
	}
}

func TestParseThresholdErrors(t *testing.T) {
	for _, tc := range []struct {
		key   string
		conds []string
		want  string
	}{
		{"", []string{"< 1"}, "no metric name"},
		{"latncy_p99", []string{"< 1s"}, `unknown metric "latncy_p99"; did you mean "latency_p99"?`},
		{"latency_p99{phase:a", []string{"< 1s"}, "malformed filters"},
		{"latency_p99{phase:a}}", []string{"< 1s"}, "malformed filters"},
		{"latency_p99{}", []string{"< 1s"}, "empty filter braces"},
		{"latency_p99{phase}", []string{"< 1s"}, `malformed filter "phase"`},
		{"latency_p99{phase:}", []string{"< 1s"}, `malformed filter "phase:"`},
		{"latency_p99{phase:a,phase:b}", []string{"< 1s"}, `filter "phase" given twice`},
		{"latency_p99{phse:a}", []string{"< 1s"}, `unknown filter "phse"; did you mean "phase"?`},
		{"latency_p99{breaker:half_open}", []string{"< 1s"}, `did you mean "half-open"?`},
		{"latency_p99{outcome:cache}", []string{"< 1s"}, `outcome "cache" is not valid`},
		{"latency_p99{window:0s}", []string{"< 1s"}, "must be positive"},
		{"latency_p99{window:10}", []string{"< 1s"}, "has no unit"},
		{"breaker_opens{breaker:open}", []string{"< 1"}, "filter breaker does not apply to breaker_opens"},
		{"time_to_close{window:1m}", []string{"< 1s"}, "filter window does not apply"},
		{"success_ratio{outcome:upstream}", []string{"> 0"}, "filter outcome applies only to latency"},
		{"requests{replica:0}", []string{"> 0"}, `replica "0" is not valid: write the replica's number, 1 to 64`},
		{"requests{replica:65}", []string{"> 0"}, `replica "65" is not valid`},
		{"requests{replica:r2}", []string{"> 0"}, `replica "r2" is not valid`},
		{"achieved_rate_ratio{replica:2}", []string{"> 0"}, "filter replica does not apply to achieved_rate_ratio"},
		{"latency_p99 extra", []string{"< 1s"}, "unknown metric"},
		{"requests", nil, "no condition"},
		{"requests", []string{"100"}, "has no operator"},
		{"requests", []string{"=< 100"}, "has no operator"},
		{"requests", []string{"<"}, "has no value"},
		{"requests", []string{"<< 1"}, "unknown operator"},
		{"requests", []string{"<> 1"}, "unknown operator"},
		{"requests", []string{"< lots"}, `"lots" is not a number`},
		{"requests", []string{"< 5%"}, "a count, not a ratio"},
		{"requests", []string{"< 5s"}, "a count, not a duration"},
		{"requests", []string{"< NaN"}, "is not a number"},
		{"requests", []string{"< Inf"}, "is not a number"},
		{"latency_p50", []string{"< 100"}, `"100" has no unit`},
		{"latency_p50", []string{"< fast"}, "is not a duration"},
		{"latency_p50", []string{"< 5%"}, "is not a duration"},
		{"success_ratio", []string{"> 1.01"}, "outside [0,1]"},
		{"success_ratio", []string{"> -1%"}, "outside [0,1]"},
		{"success_ratio", []string{"> 101%"}, "outside [0,1]"},
		{"success_ratio", []string{"> high"}, "want a ratio"},
		{"success_ratio", []string{"> 5ms"}, "want a ratio"},
		{"rps", []string{"> 5%"}, "not a percentage"},
		{"rps", []string{"> 5/h"}, `unit "h" is not "s" or "m"`},
		{"rps", []string{"> -5/s"}, "negative"},
		{"requests", []string{">= 1", "bad", "< x"}, "has no operator"}, // every bad condition reported
	} {
		_, err := ParseThreshold(tc.key, tc.conds)
		if err == nil {
			t.Errorf("ParseThreshold(%q, %q) succeeded, want an error containing %q", tc.key, tc.conds, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseThreshold(%q, %q) = %v, want an error containing %q", tc.key, tc.conds, err, tc.want)
		}
	}
	_, err := ParseThreshold("requests", []string{"bad", "< x"})
	if err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("want both bad conditions reported, got %v", err)
	}
}

func TestConditionHolds(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, tc := range []struct {
		op       string
		value    float64
		observed float64
		want     bool
	}{
		{"<", 1, 0.5, true}, {"<", 1, 1, false}, {"<", 1, 2, false},
		{"<=", 1, 1, true}, {"<=", 1, 1.5, false}, {"<=", 0.3, 0.1 + 0.2, true},
		{">", 1, 2, true}, {">", 1, 1, false}, {">", 0.3, 0.1 + 0.2, false},
		{">=", 0.95, 0.95, true}, {">=", 0.95, 0.9499, false},
		{"==", 0, 0, true}, {"==", 0, 1, false}, {"==", 0.3, 0.1 + 0.2, true},
		{"!=", 0, 1, true}, {"!=", 0.3, 0.1 + 0.2, false},
		{"<", 70, inf, false}, {"<=", 70, inf, false}, {">", 70, inf, true}, // "never" fails < and <=
		{"<", 1, nan, false}, {">", 1, nan, false}, {"!=", 1, nan, false},
		{"~", 1, 1, false},
	} {
		c := Condition{Op: tc.op, Value: tc.value}
		if got := c.Holds(tc.observed); got != tc.want {
			t.Errorf("%s %v holds for %v = %v, want %v", tc.op, tc.value, tc.observed, got, tc.want)
		}
	}
}

func TestUnitFormat(t *testing.T) {
	for _, tc := range []struct {
		u    Unit
		v    float64
		want string
	}{
		{UnitDuration, 0.1, "100ms"}, {UnitDuration, 70, "1m10s"}, {UnitDuration, math.Inf(1), "never"},
		{UnitRatio, 0.95, "95%"}, {UnitRatio, 0.001, "0.1%"},
		{UnitCount, 42, "42"}, {UnitRate, 12.5, "12.5/s"},
	} {
		if got := tc.u.Format(tc.v); got != tc.want {
			t.Errorf("%v.Format(%v) = %q, want %q", tc.u, tc.v, got, tc.want)
		}
	}
}

func TestConditionStringRoundTrips(t *testing.T) {
	for name, u := range Metrics {
		for _, v := range []float64{0, 0.25, 1, 3.5} {
			if u == UnitRatio && v > 1 {
				continue
			}
			c := Condition{Op: "<=", Value: v}
			back, err := parseCondition(conditionString(c, u), u)
			if err != nil || math.Abs(back.Value-v) > 1e-9 || back.Op != c.Op {
				t.Errorf("%s: %q parsed back as %+v, %v", name, conditionString(c, u), back, err)
			}
		}
	}
}

// A replica filter names one of the scenario's replicas: validate refuses
// a number past assistant.replicas, and takes every one up to it.
func TestValidateReplicaFilter(t *testing.T) {
	const base = "name: r\nassistant: {replicas: %d}\nphases: [{name: a, duration: 10s}]\nthresholds:\n  \"upstream_failures{replica:%d}\": [\"== 0\"]\n"
	for _, tc := range []struct {
		replicas, k int
		want        string // empty: valid
	}{
		{4, 4, ""},
		{4, 1, ""},
		{1, 1, ""},
		{4, 5, `r.yaml:5:3: thresholds["upstream_failures{replica:5}"]: replica 5 does not exist: assistant.replicas is 4 (valid: 1 to 4)`},
		{1, 2, "replica 2 does not exist: assistant.replicas is 1"},
	} {
		_, err := Parse("r.yaml", []byte(fmt.Sprintf(base, tc.replicas, tc.k)))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("replicas %d, replica:%d: %v", tc.replicas, tc.k, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("replicas %d, replica:%d: error %v, want %q", tc.replicas, tc.k, err, tc.want)
		}
	}
}
