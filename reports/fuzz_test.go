package reports

import (
	"math"
	"testing"
	"time"

	"brownout/scenarios"
)

// FuzzMetric evaluates arbitrary metric names, filters, windows and
// operators on the hand-built recording: Metric must never panic, and
// returns either an error or a value that is NaN (no data), a "never", or
// a finite number.
func FuzzMetric(f *testing.F) {
	f.Add("latency_p99", "b", "", "", int64(5*time.Second), "<", 0)
	f.Add("success_ratio", "", "open", "", int64(0), ">=", 0)
	f.Add("open_time_ratio", "a", "", "", int64(time.Millisecond), "==", 1)
	f.Add("time_to_close", "b", "", "", int64(0), "!=", 1)
	f.Add("requests", "", "", "excerpts", int64(1), ">", 2)
	f.Add("upstream_failures", "zz", "ajar", "", int64(-5), "<=", -1)
	f.Add("rps", "", "", "", int64(math.MaxInt64), "<", 0)
	var r *Recording
	f.Fuzz(func(t *testing.T, metric, phase, breaker, outcome string, window int64, op string, replica int) {
		if r == nil {
			r = handRun(t)
		}
		th := scenarios.Threshold{
			Key: metric, Metric: metric,
			Filters:    scenarios.Filters{Phase: phase, Breaker: breaker, Outcome: outcome, Window: time.Duration(window), Replica: replica},
			Conditions: []scenarios.Condition{{Op: op, Value: 0.5}},
		}
		v, ok, err := r.Metric(th)
		if err != nil {
			return
		}
		if ok && !math.IsNaN(v) && (math.IsInf(v, 0) || v < 0) {
			t.Errorf("%+v = %v: want a finite, non-negative value", th, v)
		}
		Evaluate(r, []scenarios.Threshold{th})
	})
}
