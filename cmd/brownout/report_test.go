package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"brownout/contract"
	"brownout/recording"
)

// reportTestRun writes a minimal recorded run: two phases, a breaker that
// opens during the second, thresholds that pass.
func reportTestRun(t *testing.T, interrupted bool) string {
	t.Helper()
	yaml := `name: tiny
phases:
  - name: ok
    duration: 10s
  - name: down
    duration: 10s
thresholds:
  "breaker_opens": [">= 1"]
  "success_ratio": [">= 0.9"]
`
	dir := filepath.Join(t.TempDir(), "run")
	w, err := recording.Create(dir, recording.Header{
		Scenario: "tiny", ScenarioYAML: yaml, Seed: 1, TimeScale: 1,
		Phases:   []recording.PhaseSpan{{Name: "ok", Start: 0, End: 10 * time.Second}, {Name: "down", Start: 10 * time.Second, End: 20 * time.Second}},
		Breakers: []string{"huggingface_api"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		at := time.Duration(i) * 100 * time.Millisecond
		phase, out, br := "ok", contract.OutcomeUpstream, contract.StateClosed
		if at >= 10*time.Second {
			phase, out, br = "down", contract.OutcomeExcerpts, contract.StateOpen
		}
		if err := w.Request(recording.Request{Seq: uint64(i + 1), T: at, Latency: 5 * time.Millisecond, Status: 200, Outcome: out, Phase: phase, Breaker: br}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Transition(recording.Transition{T: 10 * time.Second, Breaker: "huggingface_api", From: "closed", To: "open"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(20*time.Second, time.Time{}, interrupted); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCmdReportExitCodes(t *testing.T) {
	tight := filepath.Join(t.TempDir(), "tight.yaml")
	if err := os.WriteFile(tight, []byte("thresholds:\n  \"success_ratio{phase:down}\": [\">= 0.9\"]\n  \"upstream_ratio{phase:down}\": [\">= 0.5\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badPhase := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badPhase, []byte("thresholds:\n  \"rps{phase:nowhere}\": [\"> 1\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		args        func(dir string) []string
		interrupted bool
		want        int
		stdout      []string
		stderr      string
	}{
		{"pass", func(d string) []string { return []string{d} }, false, exitOK, []string{"2 of 2 thresholds passed: PASS", "wrote " + "DIR/junit.xml"}, ""},
		{"fail with other thresholds", func(d string) []string { return []string{d, "--thresholds", tight} }, false, exitFailed,
			[]string{"upstream_ratio{phase:down} >= 0.5  0%", "FAIL"}, ""},
		{"interrupted", func(d string) []string { return []string{d} }, true, exitInterrupted, []string{"interrupted"}, ""},
		{"unknown phase", func(d string) []string { return []string{d, "--thresholds", badPhase} }, false, exitUsage, nil, `phase "nowhere" is not in this run`},
		{"missing thresholds file", func(d string) []string { return []string{d, "--thresholds", "/nonexistent.yaml"} }, false, exitUsage, nil, "nonexistent"},
		{"no folder", func(string) []string { return nil }, false, exitUsage, nil, "want exactly one run folder"},
		{"not a run folder", func(string) []string { return []string{t.TempDir()} }, false, exitUsage, nil, "run.json"},
		{"bad flag", func(d string) []string { return []string{d, "--bogus"} }, false, exitUsage, nil, "bogus"},
		{"help", func(string) []string { return []string{"--help"} }, false, exitOK, nil, "usage: brownout report DIR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := reportTestRun(t, c.interrupted)
			got, stdout, stderr := runCmd(t, cmdReport, c.args(dir)...)
			if got != c.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, c.want, stdout, stderr)
			}
			out := strings.ReplaceAll(stdout, dir, "DIR")
			for _, s := range c.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if c.stderr != "" && !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, stderr)
			}
		})
	}
}

// TestCmdReportJUnitShowsTheFailure is the end-to-end check of issue 6 on
// a recorded run: one threshold that must fail gives exit 1 and exactly
// one JUnit failure.
func TestCmdReportJUnitShowsTheFailure(t *testing.T) {
	dir := reportTestRun(t, false)
	th := filepath.Join(t.TempDir(), "t.yaml")
	os.WriteFile(th, []byte("thresholds:\n  \"breaker_opens\": [\"== 0\"]\n  \"requests\": [\">= 100\"]\n"), 0o644)
	got, stdout, stderr := runCmd(t, cmdReport, dir, "--thresholds", th, "-q")
	if got != exitFailed {
		t.Fatalf("exit %d, want %d; stderr: %s", got, exitFailed, stderr)
	}
	jx, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(jx); strings.Count(s, "<failure ") != 1 || !strings.Contains(s, `failures="1"`) || !strings.Contains(s, "observed 1, expected == 0") {
		t.Errorf("junit.xml:\n%s", s)
	}
	if strings.Contains(stdout, "wrote ") {
		t.Error("-q still printed the paths")
	}
}
