package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"brownout/recording"
)

// shortRun is a scenario small enough to play over real sockets in a unit
// test: a hard outage of 2 s with a breaker that trips after 3 failures.
// Its last threshold cannot hold (the breaker must open during a hard
// outage), so the run must fail on exactly that one.
const shortRun = `
name: short-run
seed: 3
breaker: {fail_threshold: 3, reset_timeout: 1s, call_timeout: 500ms}
load: {rate: 40/s, timeout: 2s}
upstream:
  latency: {ttft: {dist: fixed, value: 5ms}, per_token: {dist: fixed, value: 0s}}
  tokens: 8
phases:
  - {name: healthy, duration: 1s}
  - name: outage
    duration: 2s
    faults: [{kind: status, body: model_loading}]
  - {name: recovery, duration: 2s}
thresholds:
  "breaker_opens": [">= 1"]
  "upstream_calls{breaker:open}": ["== 0"]
  "breaker_opens{phase:outage}": ["== 0"]
`

func writeScenario(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "short-run.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCmdRunFailsOnTheFailingThreshold(t *testing.T) {
	path := writeScenario(t, shortRun)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, run, "run", path, "--out", out, "--quiet")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout, stderr)
	}
	if !strings.Contains(stdout, "breaker_opens{phase:outage} == 0") || !strings.Contains(stdout, "FAIL") {
		t.Errorf("threshold table lacks the failing row:\n%s", stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatal(err)
	}
	var failed []string
	cases := 0
	for _, s := range suites.Suites {
		for _, c := range s.Cases {
			cases++
			if c.Failure != nil {
				failed = append(failed, c.Name)
			}
		}
	}
	if cases != 3 || len(failed) != 1 || !strings.Contains(failed[0], "breaker_opens{phase:outage}") {
		t.Errorf("junit: %d cases, failures %v; want 3 cases and the one failure", cases, failed)
	}
	for _, f := range []string{recording.HeaderFile, recording.RequestsFile, recording.VegetaFile, "dashboard.png", "report.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestCmdRunInterrupted(t *testing.T) {
	path := writeScenario(t, shortRun)
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	var stdout, stderr bytes.Buffer
	// A fixed scale: the test is about the run, not the calibration.
	code := run(ctx, []string{"run", path, "--out", out, "--quiet", "--time-scale", "1"}, &stdout, &stderr)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, &stdout, &stderr)
	}
	h, err := recording.ReadHeader(out)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Interrupted || !h.Complete || h.Counts.Requests == 0 {
		t.Errorf("header: interrupted=%v complete=%v requests=%d", h.Interrupted, h.Complete, h.Counts.Requests)
	}
	if _, err := os.Stat(filepath.Join(out, "report.md")); err != nil {
		t.Errorf("no report for the interrupted run: %v", err)
	}
}

func TestCmdRunRefusesBadInput(t *testing.T) {
	path := writeScenario(t, shortRun)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown scenario", []string{"run", "no-such-scenario"}, "no-such-scenario"},
		{"time scale too high", []string{"run", path, "--time-scale", "1000"}, "time scale 1000 is too high"},
		{"time scale zero", []string{"run", path, "--time-scale", "0"}, "want a number > 0, or auto"},
		{"time scale not a number", []string{"run", path, "--time-scale", "fast"}, "want a number > 0 or auto"},
		{"bad breaker flag", []string{"run", path, "--breaker", "maybe"}, "--breaker"},
		{"bad override", []string{"run", path, "--fail-threshold", "0"}, "fail_threshold"},
		{"no scenario", []string{"run"}, "usage"},
		{"running target at another scale", []string{"run", path, "--time-scale", "2", "--target", "http://127.0.0.1:8000", "--upstream-listen", "127.0.0.1:9000"}, "cannot divide by the time scale 2"},
		{"running target without upstream address", []string{"run", path, "--time-scale", "1", "--target", "http://127.0.0.1:8000"}, "needs --upstream-listen"},
		{"running target off loopback", []string{"run", path, "--time-scale", "1", "--target", "http://10.0.0.1:8000", "--upstream-listen", "127.0.0.1:9000"}, "not a loopback address"},
		{"both targets", []string{"run", path, "--target-cmd", "true", "--target", "http://127.0.0.1:8000"}, "exclude each other"},
		{"bad target env", []string{"run", path, "--target-cmd", "true", "--target-env", "NOEQUALS"}, "want NAME=VALUE"},
		{"upstream address for the built-in", []string{"run", path, "--upstream-listen", "127.0.0.1:9000"}, "--upstream-listen is for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, run, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
		})
	}
}
