package sweep

import (
	"fmt"
	"strings"
	"time"

	"brownout/scenarios"
	"brownout/sim"
)

// CellsAccept returns whether every cell of g accepts the time scale k for
// sc (sim.CheckTimeScale): a cell with a short reset timeout limits the
// whole sweep. `brownout sweep` passes it to sim.AutoTimeScale.
func CellsAccept(sc *scenarios.Scenario, g Grid) func(k float64) bool {
	return func(k float64) bool {
		for _, s := range g.Cells() {
			c, err := s.Apply(sc, sc.Seed)
			if err == nil && sim.CheckTimeScale(c, k) != nil {
				return false
			}
		}
		return true
	}
}

// TimeScaleWarnings lists the thresholds of sc that compare a breaker
// time (time_to_open, time_to_close, timer lateness) with a value shorter
// than sim.MinScaledDuration once compressed by k, e.g. "time_to_open <
// 2s" at k = 250 is 8 ms of real time: a garbage collection or a busy core
// decides such a verdict, not the breaker. Latency thresholds are exempt:
// a request's latency scales only its simulated waits, so its local work
// reads the same at any k. (The run itself is refused only when a scenario
// duration gets that short; thresholds are judged in scenario time, so
// they only warn.)
func TimeScaleWarnings(sc *scenarios.Scenario, k float64) []string {
	var out []string
	for _, th := range sc.Thresholds {
		if scenarios.Metrics[th.Metric] != scenarios.UnitDuration || strings.HasPrefix(th.Metric, "latency_") {
			continue
		}
		for _, c := range th.Conditions {
			real := time.Duration(c.Value / k * float64(time.Second))
			if c.Value > 0 && real < sim.MinScaledDuration {
				out = append(out, fmt.Sprintf("threshold %s %s is %v of real time at time scale %g, under the %v this machine times reliably; its verdicts may be noise (use a time scale of at most %g for it)",
					th.Key, c.String(), real, k, sim.MinScaledDuration, c.Value/sim.MinScaledDuration.Seconds()))
			}
		}
	}
	return out
}
