package reports

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"brownout/recording"
)

// fromDistortion is a whole-run metric of the time-compression checks
// (recording.Distortion): a threshold such as "distorted": ["== 0"] or
// "timer_lateness_p99": ["< 200ms"] can demand an honest run. Recordings
// made before the checks have no value (NaN).
func fromDistortion(value func(*recording.Distortion) float64) metricDef {
	return metricDef{family: famRun, run: func(r *Recording) (float64, bool) {
		if r.Header.Distortion == nil {
			return math.NaN(), true
		}
		return value(r.Header.Distortion), true
	}}
}

// distorted reports whether the recording says its machine did not keep up
// with the time scale.
func (r *Recording) distorted() bool {
	return r.Header.Distortion != nil && r.Header.Distortion.Distorted
}

// ThresholdsHeld reports whether every threshold passed, whatever the
// distortion checks say; with a distorted run, Passed is false even then.
func (rep *Report) ThresholdsHeld() bool { return rep.failed() == 0 }

// writeDistortion writes the terminal's warning for a distorted run.
func (rep *Report) writeDistortion(w io.Writer) error {
	d := rep.Distortion
	if d == nil || !d.Distorted {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "DISTORTED: this machine did not keep up with time scale %g, so the recording shows the machine, not the scenario:\n", rep.Summary.Settings.TimeScale)
	for _, r := range d.Reasons {
		fmt.Fprintf(&b, "  - %s\n", r)
	}
	b.WriteString("rerun at a lower --time-scale (or --time-scale auto) on a quieter machine; this run is not a pass\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// distortionMarkdown writes report.md's time-compression section, with a
// caution block first when the run is distorted.
func distortionMarkdown(b *bytes.Buffer, h *recording.Header) {
	d := h.Distortion
	if d == nil {
		return
	}
	b.WriteString("## Time compression\n\n")
	if d.Distorted {
		fmt.Fprintf(b, "> [!CAUTION]\n> **Distorted run**: this machine did not keep up with time scale %g, so the recording shows the machine, not the scenario. This run is not a pass.\n", h.TimeScale)
		for _, r := range d.Reasons {
			fmt.Fprintf(b, "> - %s\n", mdEscape(r))
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(b, "The machine kept up with time scale %g: every check below is within its limit.\n\n", h.TimeScale)
	}
	b.WriteString("| Check | Observed | Limit |\n|---|---:|---:|\n")
	fmt.Fprintf(b, "| achieved request rate (worst phase) | %.1f%% (%d of %d requests) | ≥ %g%% |\n",
		100*d.AchievedRateRatio, d.SentRequests, d.TargetRequests, 100*recording.MinAchievedRate)
	fmt.Fprintf(b, "| upstream calls timed out by contention | %d of %d | ≤ %g%% |\n",
		d.ContentionTimeouts, d.UpstreamCalls, 100*recording.MaxContentionTimeoutShare)
	fmt.Fprintf(b, "| upstream slowdown over the planned delay | %+.1f%% | ≤ %g%% |\n", 100*d.UpstreamSlowdown, 100*recording.MaxUpstreamSlowdown)
	fmt.Fprintf(b, "| timer lateness p99 (scenario time) | %v (max %v) | ≤ %v |\n",
		d.TimerLatenessP99.Round(time.Millisecond), d.TimerLatenessMax.Round(time.Millisecond), d.Tolerance)
	fmt.Fprintf(b, "| send lag of the load generator p99 (scenario time) | %v | ≤ %v |\n", d.SendLagP99.Round(time.Millisecond), d.Tolerance)
	if d.LocalWorkP99 > 0 {
		fmt.Fprintf(b, "| own work on answers without an upstream call, p99 real × (K − 1) | %v (%v real) | ≤ %v |\n",
			d.LocalWorkShift.Round(time.Millisecond), d.LocalWorkP99.Round(10*time.Microsecond), d.Tolerance)
	}
	if d.BreakerTimers > 0 {
		fmt.Fprintf(b, "| breaker turned half-open late, worst of %d (scenario time) | %v | ≤ %v |\n",
			d.BreakerTimers, d.BreakerLatenessMax.Round(time.Millisecond), d.Tolerance)
	}
	b.WriteString("\n")
	if d.UncorrectedCalls > 0 {
		fmt.Fprintf(b, "> [!WARNING]\n> %d upstream calls named no load request: the service does not forward `X-Request-Id`, so their waits could not be scaled by the time scale, and the latencies of the requests that made them are not corrected for the compression: latency thresholds (`latency_*`, `response_time_*`) were not judged, and the report cannot pass them. Forward the header, or run at time scale 1.\n\n", d.UncorrectedCalls)
	}
}
