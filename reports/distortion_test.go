package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

// withDistortion rewrites a run folder's header to carry d.
func withDistortion(t *testing.T, dir string, d *recording.Distortion) {
	t.Helper()
	editHeader(t, dir, func(h *recording.Header) { h.Distortion = d })
}

// TestDistortedRunIsNeverAPass: thresholds that all hold on a distorted
// run give no pass anywhere: not in the report, the table, report.md or
// summary.json; an honest run passes, and the metrics read the checks.
func TestDistortedRunIsNeverAPass(t *testing.T) {
	ths, err := scenarios.ParseThresholds("t.yaml", []byte(`thresholds:
  "requests": [">= 1"]
  "distorted": ["== 0"]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		d         recording.Distortion
		passed    bool
		verdict   string
		table, md string
	}{
		{"honest", recording.Distortion{Tolerance: time.Second, AchievedRateRatio: 1, TimerLatenessP99: 20 * time.Millisecond},
			true, "pass", "2 of 2 thresholds passed: PASS", "The machine kept up with time scale 1"},
		{"distorted", recording.Distortion{Distorted: true, Reasons: []string{"timers fired 2s late"}, Tolerance: time.Second,
			AchievedRateRatio: 0.7, ContentionTimeouts: 12, UpstreamCalls: 100, UpstreamSlowdown: 0.5, TimerLatenessP99: 2 * time.Second},
			false, "fail", "DISTORTED: this machine did not keep up with time scale 1", "> [!CAUTION]"},
		{"uncorrected latencies", recording.Distortion{Tolerance: time.Second, AchievedRateRatio: 1, UncorrectedCalls: 7},
			true, "pass", "2 of 2 thresholds passed: PASS", "7 upstream calls named no load request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			steadyRun(t, dir, 30*time.Second, 10)
			withDistortion(t, dir, &tc.d)
			rep, err := Render(dir, Options{Thresholds: ths})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Passed != tc.passed || rep.Summary.Passed != tc.passed || rep.Summary.Verdict != tc.verdict {
				t.Errorf("passed %v, summary passed %v verdict %q; want %v, %q", rep.Passed, rep.Summary.Passed, rep.Summary.Verdict, tc.passed, tc.verdict)
			}
			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(table.String(), tc.table) {
				t.Errorf("table lacks %q:\n%s", tc.table, &table)
			}
			md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(md), tc.md) || !strings.Contains(string(md), "## Time compression") {
				t.Errorf("report.md lacks %q or its time-compression section:\n%s", tc.md, md)
			}
			ju, err := os.ReadFile(filepath.Join(dir, JUnitFile))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(ju), `type="distorted"`); got == tc.passed || (got && !strings.Contains(string(ju), "timers fired 2s late")) {
				t.Errorf("junit.xml: distorted error case %v, want %v, with the reason:\n%s", got, !tc.passed, ju)
			}
			r, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			for metric, want := range map[string]float64{
				"timer_lateness_p99":   tc.d.TimerLatenessP99.Seconds(),
				"breaker_lateness_max": tc.d.BreakerLatenessMax.Seconds(),
				"local_work_shift":     tc.d.LocalWorkShift.Seconds(),
				"contention_timeouts":  float64(tc.d.ContentionTimeouts),
				"upstream_slowdown":    tc.d.UpstreamSlowdown,
				"achieved_rate_ratio":  tc.d.AchievedRateRatio,
			} {
				th, err := scenarios.ParseThreshold(metric, []string{">= 0"})
				if err != nil {
					t.Fatal(err)
				}
				if v, _, err := r.Metric(th); err != nil || v != want {
					t.Errorf("%s = %v (%v), want %v", metric, v, err, want)
				}
			}
		})
	}
	// The summary of a distorted run whose thresholds hold says so.
	dir := filepath.Join(t.TempDir(), "run")
	steadyRun(t, dir, 30*time.Second, 10)
	withDistortion(t, dir, &recording.Distortion{Distorted: true, Reasons: []string{"x"}})
	only, _ := scenarios.ParseThresholds("t.yaml", []byte("thresholds:\n  \"requests\": [\">= 1\"]\n"))
	rep, err := Render(dir, Options{Thresholds: only})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || rep.Summary.Verdict != "distorted" {
		t.Errorf("passed %v verdict %q, want a distorted verdict", rep.Passed, rep.Summary.Verdict)
	}
}

// TestDistortionMetricsTakeNoFilter: the whole-run checks refuse filters,
// and a recording made before the checks has no value for them.
func TestDistortionMetricsTakeNoFilter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	steadyRun(t, dir, 30*time.Second, 10)
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	th, err := scenarios.ParseThreshold("timer_lateness_p99{phase:outage}", []string{"< 1s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Metric(th); err == nil || !strings.Contains(err.Error(), "takes no filter") {
		t.Errorf("err = %v, want a no-filter error", err)
	}
	th, _ = scenarios.ParseThreshold("distorted", []string{"== 0"})
	if v, _, err := r.Metric(th); err != nil || v == v {
		t.Errorf("old recording: distorted = %v (%v), want no data (NaN)", v, err)
	}
}

// TestUncorrectedLatencyIsNotJudged: on a compressed run whose service did
// not forward X-Request-Id, latency thresholds are not judged (their
// latencies are partly at real speed, so they would pass too easily) and
// the report cannot pass; other thresholds are judged as usual, and at
// time scale 1, where nothing needs correcting, latencies are judged.
func TestUncorrectedLatencyIsNotJudged(t *testing.T) {
	ths, err := scenarios.ParseThresholds("t.yaml", []byte(`thresholds:
  "requests": [">= 1"]
  "latency_p99": ["< 1h"]
  "latency_max{phase:outage}": ["< 1h"]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		scale       float64
		uncorrected int64
		notJudged   int
	}{
		{"compressed, id not forwarded", 10, 7, 2},
		{"compressed, id forwarded", 10, 0, 0},
		{"time scale 1", 1, 7, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			steadyRun(t, dir, 30*time.Second, 10)
			withDistortion(t, dir, &recording.Distortion{Tolerance: time.Second, AchievedRateRatio: 1, UncorrectedCalls: tc.uncorrected})
			editHeader(t, dir, func(h *recording.Header) { h.TimeScale = tc.scale })
			rep, err := Render(dir, Options{Thresholds: ths})
			if err != nil {
				t.Fatal(err)
			}
			notJudged := 0
			for _, v := range rep.Verdicts {
				if strings.Contains(v.Err, "not judged") {
					notJudged++
					if !readsLatency(v.Threshold.Metric) || !strings.Contains(v.Err, "X-Request-Id") {
						t.Errorf("%s: %s", v.Name(), v.Err)
					}
				} else if !v.Passed {
					t.Errorf("%s failed: %s", v.Name(), v.observed())
				}
			}
			if notJudged != tc.notJudged || rep.Passed != (tc.notJudged == 0) {
				t.Errorf("%d thresholds not judged, passed %v; want %d, %v", notJudged, rep.Passed, tc.notJudged, tc.notJudged == 0)
			}
		})
	}
}
