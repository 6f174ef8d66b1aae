package sweep

import (
	"fmt"
	"time"

	"brownout/scenarios"
	"brownout/sim"
)

// MaxTimeScale is the fastest time compression a sweep picks on its own:
// at 25, with two runs at once, a 4×4 grid of hard-outage (4.5 minutes of
// scenario time per cell) plays in under 2 minutes on a 2-core machine,
// and the breaker's behaviour per cell (opens, half-open probes, time to
// open and to close) agrees with a run at 10.
const MaxTimeScale = 25

// timeScaleSteps are the time scales TimeScaleFor tries, fastest first.
var timeScaleSteps = []float64{MaxTimeScale, 20, 10, 5, 2, 1}

// TimeScaleFor picks the time scale for sweeping sc over g when none is
// given: the scenario's own time_scale when it compresses time, else the
// fastest of 25, 20, 10, 5, 2, 1 that every cell accepts
// (sim.CheckTimeScale) and that keeps every duration threshold at least
// sim.MinScaledDuration of real time (see TimeScaleWarnings), so verdicts
// do not turn on scheduling noise.
func TimeScaleFor(sc *scenarios.Scenario, g Grid) float64 {
	if sc.TimeScale > 1 {
		return sc.TimeScale
	}
	for _, k := range timeScaleSteps {
		if len(TimeScaleWarnings(sc, k)) > 0 {
			continue
		}
		ok := true
		for _, s := range g.Cells() {
			c, err := s.Apply(sc, sc.Seed)
			if err == nil && sim.CheckTimeScale(c, k) != nil {
				ok = false
				break
			}
		}
		if ok {
			return k
		}
	}
	return 1
}

// TimeScaleWarnings lists the thresholds of sc that compare a duration
// with a value shorter than sim.MinScaledDuration once compressed by k,
// e.g. "latency_p99{phase:outage} < 100ms" at k = 25 is 4 ms of real time:
// a garbage collection or a busy core decides such a verdict, not the
// breaker. (The run itself is refused only when a scenario duration gets
// that short; thresholds are judged in scenario time, so they only warn.)
func TimeScaleWarnings(sc *scenarios.Scenario, k float64) []string {
	var out []string
	for _, th := range sc.Thresholds {
		if scenarios.Metrics[th.Metric] != scenarios.UnitDuration {
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
