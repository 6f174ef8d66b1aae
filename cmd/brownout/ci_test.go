package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ciCommands returns the brownout command lines of a CI file in the order
// written, with the shard variables of the job for shard i of n put in.
func ciCommands(t *testing.T, file string, i, n int) [][]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer(
		"${{ matrix.shard }}", strconv.Itoa(i),
		"${CI_NODE_INDEX}", strconv.Itoa(i), "$CI_NODE_INDEX", strconv.Itoa(i),
		"${CI_NODE_TOTAL}", strconv.Itoa(n),
	)
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		_, cmd, ok := strings.Cut(line, "./bin/brownout ")
		if !ok || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		out = append(out, strings.Fields(r.Replace(cmd)))
	}
	return out
}

// TestCIExamples runs the commands of docs/ci/github-actions.yml exactly as
// written, the four shard jobs in a scrambled order and then the merge
// job, and checks that docs/ci/gitlab-ci.yml runs the very same commands.
func TestCIExamples(t *testing.T) {
	docs, err := filepath.Abs(filepath.Join("..", "..", "docs", "ci"))
	if err != nil {
		t.Fatal(err)
	}
	scenario, err := os.ReadFile(filepath.Join(docs, "sweep-scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gh, gl := filepath.Join(docs, "github-actions.yml"), filepath.Join(docs, "gitlab-ci.yml")
	for i := 1; i <= 4; i++ {
		a, b := ciCommands(t, gh, i, 4), ciCommands(t, gl, i, 4)
		if len(a) != 2 || strings.Join(a[0], " ") != strings.Join(b[0], " ") || strings.Join(a[1], " ") != strings.Join(b[1], " ") {
			t.Fatalf("shard %d: the CI files run different commands:\n%q\n%q", i, a, b)
		}
	}
	work := t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, "docs", "ci"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "docs", "ci", "sweep-scenario.yaml"), scenario, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	for _, i := range []int{4, 2, 3, 1} {
		cmd := ciCommands(t, gh, i, 4)[0]
		code, stdout, stderr := runCmd(t, run, cmd...)
		if code != exitOK {
			t.Fatalf("shard %d: %v: exit %d\n%s\n%s", i, cmd, code, stdout, stderr)
		}
	}
	merge := ciCommands(t, gh, 1, 4)[1]
	code, stdout, stderr := runCmd(t, run, merge...)
	if code != exitOK && code != exitFailed {
		t.Fatalf("%v: exit %d\n%s\n%s", merge, code, stdout, stderr)
	}
	csv, err := os.ReadFile(filepath.Join("out", "sweep", "sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(rows) != 5 {
		t.Fatalf("merged sweep.csv has %d rows, want a header and 4 cells:\n%s", len(rows), csv)
	}
	for _, row := range rows[1:] {
		if !strings.Contains(row, ",done,") {
			t.Errorf("cell not done in the merged sweep: %s", row)
		}
	}
	for _, f := range []string{"sweep.md", "sweep.json", "heatmap-pass.png", "cells/ft3-rt1s/dashboard.png"} {
		if _, err := os.Stat(filepath.Join("out", "sweep", f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "recommended:") && !strings.Contains(stdout, "no cell passes") {
		t.Errorf("merge printed no recommendation:\n%s", stdout)
	}
}
