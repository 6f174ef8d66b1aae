package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

// editHeader rewrites run.json in dir through fn.
func editHeader(t *testing.T, dir string, fn func(*recording.Header)) {
	t.Helper()
	h, err := recording.ReadHeader(dir)
	if err != nil {
		t.Fatal(err)
	}
	fn(h)
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, recording.HeaderFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustThresholds(t *testing.T, m map[string][]string) []scenarios.Threshold {
	t.Helper()
	var out []scenarios.Threshold
	for _, k := range []string{"breaker_opens{phase:healthy}", "upstream_calls{breaker:open}", "requests"} {
		if conds, ok := m[k]; ok {
			th, err := scenarios.ParseThreshold(k, conds)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, th)
		}
	}
	return out
}

// checkIncompleteOutputs checks that every output says the recording is
// incomplete and that nothing passes.
func checkIncompleteOutputs(t *testing.T, dir string, rep *Report, why string) {
	t.Helper()
	if rep.Passed || len(rep.Incomplete) == 0 || !strings.Contains(strings.Join(rep.Incomplete, ";"), why) {
		t.Fatalf("report passed %v, incomplete %q; want not passed, incomplete naming %q", rep.Passed, rep.Incomplete, why)
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	if !strings.Contains(table.String(), "INCOMPLETE") || strings.Contains(table.String(), ": PASS") {
		t.Errorf("table does not say incomplete, or says PASS:\n%s", table.String())
	}
	var s struct {
		Passed        bool     `json:"passed"`
		Complete      bool     `json:"complete"`
		Incomplete    []string `json:"incomplete"`
		CompleteUntil *float64 `json:"complete_until_s"`
	}
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Passed || s.Complete || len(s.Incomplete) == 0 || s.CompleteUntil == nil {
		t.Errorf("summary.json: passed %v complete %v incomplete %q until %v", s.Passed, s.Complete, s.Incomplete, s.CompleteUntil)
	}
	j, err := os.ReadFile(filepath.Join(dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `name="recording complete"`) || !strings.Contains(string(j), `type="incomplete"`) {
		t.Errorf("junit.xml lacks the errored recording-complete case:\n%s", j)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if !strings.Contains(string(md), "Incomplete recording") {
		t.Errorf("report.md does not say the recording is incomplete")
	}
}

func TestCutShortLogIsIncomplete(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	synthRun(t, dir, 0.5, 1)
	path := filepath.Join(dir, recording.RequestsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if err := os.WriteFile(path, bytes.Join(lines[:len(lines)/2], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	ths := mustThresholds(t, map[string][]string{"upstream_calls{breaker:open}": {"== 0"}, "requests": {">= 1"}})
	rep, err := Render(dir, Options{Thresholds: ths})
	if err != nil {
		t.Fatal(err)
	}
	checkIncompleteOutputs(t, dir, rep, "requests.jsonl holds")
	for _, v := range rep.Verdicts {
		if v.Passed || !strings.Contains(v.Err, "not judged") {
			t.Errorf("%s over the whole run was judged on a cut-short log: passed %v, err %q", v.Name(), v.Passed, v.Err)
		}
	}
}

func TestKilledRunIsIncompleteButEarlyPhasesAreJudged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	synthRun(t, dir, 0.5, 1)
	// What run.json holds while a run is going on, and after a SIGKILL.
	editHeader(t, dir, func(h *recording.Header) {
		h.Complete, h.EndedAt, h.Duration, h.Counts = false, time.Time{}, 0, recording.Counts{}
	})
	ths := mustThresholds(t, map[string][]string{"breaker_opens{phase:healthy}": {"== 0"}, "upstream_calls{breaker:open}": {"== 0"}})
	rep, err := Render(dir, Options{Thresholds: ths})
	if err != nil {
		t.Fatal(err)
	}
	checkIncompleteOutputs(t, dir, rep, "never finished")
	if v := rep.Verdicts[0]; !v.Passed || v.Err != "" {
		t.Errorf("%s covers a phase long before the cut and should be judged: passed %v, err %q", v.Name(), v.Passed, v.Err)
	}
	if v := rep.Verdicts[1]; v.Passed || !strings.Contains(v.Err, "not judged") {
		t.Errorf("%s needs the whole run and must not be judged: passed %v, err %q", v.Name(), v.Passed, v.Err)
	}
	// The covered time is the logs' own, not the scenario's full length.
	if d := rep.Summary.Duration; d <= 200 || d > 275 {
		t.Errorf("duration %v s, want the last record's time (about 270 s)", d)
	}
}

func TestLoadShortfallIsFlagged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	synthRun(t, dir, 0.5, 1)
	// Ask for twice the rate that was sent.
	editHeader(t, dir, func(h *recording.Header) {
		h.ScenarioYAML = regexp.MustCompile(`\b(\d+)/s\b`).ReplaceAllStringFunc(h.ScenarioYAML, func(m string) string {
			n, _ := strconv.ParseFloat(m[:len(m)-2], 64)
			return strconv.FormatFloat(2*n, 'g', -1, 64) + "/s"
		})
	})
	th, err := scenarios.ParseThreshold("achieved_rate_ratio", []string{">= 95%"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Render(dir, Options{Thresholds: []scenarios.Threshold{th}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Shortfalls) != 4 || !rep.Summary.LoadShort {
		t.Fatalf("passed %v, shortfalls %+v, load_short %v; want a failed threshold and 3 phases + the run short", rep.Passed, rep.Shortfalls, rep.Summary.LoadShort)
	}
	if v, _ := rep.Summary.Overall.Get("achieved_rate_ratio"); v.Value < 0.49 || v.Value > 0.51 {
		t.Errorf("achieved_rate_ratio = %v, want 0.5", v.Value)
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	for what, text := range map[string]string{"table": table.String(), "report.md": string(md)} {
		if !strings.Contains(text, "LOAD SHORT") {
			t.Errorf("%s does not flag the shortfall", what)
		}
	}
}

func TestResponseTimeIncludesSendLag(t *testing.T) {
	_, rep := sharedRender(t)
	lat, _ := rep.Summary.Overall.Get("latency_max")
	lag, _ := rep.Summary.Overall.Get("send_lag_max")
	resp, _ := rep.Summary.Overall.Get("response_time_max")
	if lag.Value != 0.003 || resp.Value <= lat.Value || resp.Value > lat.Value+lag.Value {
		t.Errorf("latency_max %v, send_lag_max %v, response_time_max %v: want lag 3 ms and latency < response ≤ latency + lag", lat.Value, lag.Value, resp.Value)
	}
}

func TestOldRecordingHasNoSendLag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	synthRun(t, dir, 0.1, 1)
	editHeader(t, dir, func(h *recording.Header) { h.IntendedTimes = false })
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"send_lag_p99", "response_time_p99"} {
		th, _ := scenarios.ParseThreshold(m, []string{"< 1s"})
		if v, _, err := r.Metric(th); err != nil || v == v {
			t.Errorf("%s on a recording without intended times = %v, %v; want no data (NaN)", m, v, err)
		}
	}
}

func TestRenderContextStopsBeforeWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	synthRun(t, dir, 0.1, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RenderContext(ctx, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	for _, f := range OutputFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was written after the interrupt", f)
		}
	}
}
