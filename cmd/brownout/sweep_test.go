package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCmdSweepSmallGrid(t *testing.T) {
	path := writeScenario(t, strings.Replace(shortRun, `  "breaker_opens{phase:outage}": ["== 0"]`+"\n", "", 1))
	out := filepath.Join(t.TempDir(), "sweep")
	code, stdout, stderr := runCmd(t, run, "sweep", path, "--fail-threshold", "2,4", "--reset-timeout", "500ms", "--time-scale", "1", "--out", out, "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, stdout, stderr)
	}
	if !strings.Contains(stdout, "recommended:") {
		t.Errorf("no recommendation in the output:\n%s", stdout)
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
