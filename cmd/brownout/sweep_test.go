package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"brownout/scenarios"
	"brownout/sweep"
)

func TestCmdSweepSmallGrid(t *testing.T) {
	path := writeScenario(t, strings.Replace(shortRun, `  "breaker_opens{phase:outage}": ["== 0"]`+"\n", "", 1))
	out := filepath.Join(t.TempDir(), "sweep")
	code, stdout, stderr := runCmd(t, run, "sweep", path, "--fail-threshold", "2,4", "--reset-timeout", "500ms", "--time-scale", "1", "--out", out, "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, stdout, stderr)
	}
	if !strings.Contains(stdout, "recommended:") || !strings.Contains(stdout, "How sure: not measured") {
		t.Errorf("no recommendation, or no word on how sure it is, in the output:\n%s", stdout)
	}
	for _, f := range []string{"sweep.csv", "sweep.json", "sweep.md", "heatmap-pass.png", "cells/ft2-rt500ms/run.json", "cells/ft4-rt500ms/dashboard.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestCmdSweepRefusesBadInput(t *testing.T) {
	path := writeScenario(t, shortRun)
	for _, args := range [][]string{
		{"sweep"},
		{"sweep", path, "--fail-threshold", "0"},
		{"sweep", path, "--reset-timeout", "soon"},
		{"sweep", path, "--objective", "happiness"},
		{"sweep", path, "--window", "30s", "--interval", "60s"},
		{"sweep", path, "--window", "-1s"},
		{"sweep", "no-such-scenario"},
	} {
		code, _, stderr := runCmd(t, run, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d\nstderr:\n%s", args, code, exitUsage, stderr)
		}
		if stderr == "" {
			t.Errorf("%v: nothing on stderr", args)
		}
	}
}

// TestCmdSweepRefusesBeforeThePlan checks that values that cannot work are
// refused before the plan is printed, and that a useless --failure-ratio
// is warned about.
func TestCmdSweepRefusesBeforeThePlan(t *testing.T) {
	path := writeScenario(t, shortRun)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--parallel", "-4"}, "--parallel -4: want at least 1"},
		{[]string{"--repeat", "0"}, "--repeat 0: want at least 1"},
		{[]string{"--time-scale", "0"}, "--time-scale 0: want a number > 0"},
		{[]string{"--fail-threshold", "20000"}, "fail threshold 20000: want 1 to 10000"},
	} {
		code, _, stderr := runCmd(t, run, append([]string{"sweep", path, "--quiet"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "sweeping") {
			t.Errorf("%v: exit %d, want %d with %q and no plan; stderr:\n%s", tc.args, code, exitUsage, tc.want, stderr)
		}
	}
	// A file as --out: the plan is printed, then the setup problem, exit 2.
	code, _, stderr := runCmd(t, run, "sweep", path, "--quiet", "--fail-threshold", "2", "--reset-timeout", "1s",
		"--policy", "consecutive", "--failure-ratio", "50%", "--out", path)
	if code != exitUsage || !strings.Contains(stderr, "is a file, not a folder") {
		t.Errorf("--out FILE: exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
	if !strings.Contains(stderr, "warning: --failure-ratio only applies to the ratio policy") {
		t.Errorf("no warning for --failure-ratio with --policy consecutive; stderr:\n%s", stderr)
	}
}

func TestConfirmLongSweep(t *testing.T) {
	for _, tc := range []struct {
		estimate      time.Duration
		yes, terminal bool
		wantRefused   bool
	}{
		{59 * time.Minute, false, true, false},
		{9 * time.Hour, false, true, true},
		{9 * time.Hour, true, true, false},
		{9 * time.Hour, false, false, false},
	} {
		err := confirmLongSweep(tc.estimate, tc.yes, tc.terminal)
		if (err != nil) != tc.wantRefused {
			t.Errorf("confirmLongSweep(%v, yes=%v, terminal=%v) = %v, want refused %v", tc.estimate, tc.yes, tc.terminal, err, tc.wantRefused)
		}
	}
}

// TestSweepWarnsOfWhatCellsAdd: a warning the grid's settings bring (the
// ratio policy without a window) is printed once with the cells it
// applies to; the scenario's own warnings come first, and a grid that
// adds none prints none.
func TestSweepWarnsOfWhatCellsAdd(t *testing.T) {
	sc, err := scenarios.Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	g := sweep.Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{10 * time.Second, 30 * time.Second},
		Policies: []string{"consecutive", "ratio"}}
	got := sweepWarnings(sc, g.Cells())
	if len(got) != 1 || !strings.Contains(got[0], "W001") || !strings.Contains(got[0], "in 2 cells: ") ||
		strings.Count(got[0], "ratio") < 2 || strings.Contains(got[0], "consecutive-") {
		t.Errorf("warnings %q, want W001 once, for the two ratio cells", got)
	}
	g.Policies = []string{"consecutive"}
	if got := sweepWarnings(sc, g.Cells()); len(got) != 0 {
		t.Errorf("a grid that adds no warning: %q", got)
	}
	sc.Breaker.Policy = scenarios.PolicyRatio
	sc.Breaker.Window = 0
	got = sweepWarnings(sc, g.Cells())
	if len(got) != 1 || !strings.Contains(got[0], "W001") || strings.Contains(got[0], " cells: ") {
		t.Errorf("the scenario's own warning: %q, want it once, without cells", got)
	}
}
