package sweep

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
	"brownout/sim"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// outageProbes counts the transitions into half-open during the outage
// phase of a recorded run.
func outageProbes(t *testing.T, dir string) int {
	t.Helper()
	h, err := recording.ReadHeader(dir)
	if err != nil {
		t.Fatal(err)
	}
	trs, err := recording.ReadTransitions(dir)
	if err != nil {
		t.Fatal(err)
	}
	var outage recording.PhaseSpan
	for _, p := range h.Phases {
		if p.Name == "outage" {
			outage = p
		}
	}
	n := 0
	for _, tr := range trs {
		if tr.To == contract.StateHalfOpen && tr.T >= outage.Start && tr.T < outage.End {
			n++
		}
	}
	return n
}

func stat(t *testing.T, c *Cell, metric string) float64 {
	t.Helper()
	st, ok := c.Stat(metric)
	if !ok || st.N == 0 {
		t.Fatalf("cell %s: no %s (%+v)", c.Name, metric, st)
	}
	return st.Mean
}

// TestSweepBreakerRelations plays a 2×2 sweep of hard-outage in virtual
// time and checks relations that follow from the breaker's definition, not
// from its implementation: with the upstream hard down, a longer reset
// timeout probes no more often, and a higher fail threshold lets at least
// as many failing calls through before the first trip (at least the
// threshold itself).
func TestSweepBreakerRelations(t *testing.T) {
	sc, err := scenarios.Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	g := Grid{FailThresholds: []int{3, 10}, ResetTimeouts: []time.Duration{10 * time.Second, 30 * time.Second}}
	dir := filepath.Join(t.TempDir(), "sweep")
	var res *Result
	var progress []Progress
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		res, err = Run(context.Background(), sc, g, WithOutDir(dir), WithTimeScale(1), WithParallel(2),
			WithRunOptions(sim.InMemory()), WithProgress(func(p Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() }))
		if err != nil {
			t.Fatal(err)
		}
	})
	if res.Interrupted {
		t.Error("sweep marked interrupted")
	}
	if len(res.Cells) != 4 {
		t.Fatalf("%d cells, want 4", len(res.Cells))
	}
	cells := map[string]*Cell{}
	for i := range res.Cells {
		c := &res.Cells[i]
		if c.Status != CellDone {
			t.Fatalf("cell %s: status %s", c.Name, c.Status)
		}
		cells[c.Name] = c
		t.Logf("%s: probes %v, failures before trip %v, time to close %v, passed %v", c.Name,
			stat(t, c, HalfOpenProbes), stat(t, c, FailuresBeforeTrip), stat(t, c, TimeToCloseRecovery), c.Passed)
	}
	for _, name := range []string{"ft3-rt10s", "ft3-rt30s", "ft10-rt10s", "ft10-rt30s"} {
		if cells[name] == nil {
			t.Fatalf("no cell %s among %v", name, res.Cells)
		}
	}

	for _, ft := range []string{"ft3", "ft10"} {
		short, long := cells[ft+"-rt10s"], cells[ft+"-rt30s"]
		ps, pl := outageProbes(t, short.Dir), outageProbes(t, long.Dir)
		if pl > ps {
			t.Errorf("%s: reset 30s made %d half-open probes in the outage, more than the %d of reset 10s", ft, pl, ps)
		}
		if ps == 0 {
			t.Errorf("%s-rt10s: no half-open probe during a 90 s outage", ft)
		}
		if a, b := stat(t, long, HalfOpenProbes), stat(t, short, HalfOpenProbes); a > b {
			t.Errorf("%s: half_open_probes %v at reset 30s > %v at reset 10s", ft, a, b)
		}
	}
	for _, rt := range []string{"rt10s", "rt30s"} {
		low, high := cells["ft3-"+rt], cells["ft10-"+rt]
		fl, fh := stat(t, low, FailuresBeforeTrip), stat(t, high, FailuresBeforeTrip)
		if fh < fl {
			t.Errorf("%s: fail threshold 10 let %v failing calls through before the trip, fewer than the %v of threshold 3", rt, fh, fl)
		}
		if fl < 3 || fh < 10 {
			t.Errorf("%s: %v and %v failures before the trip, want at least the thresholds 3 and 10", rt, fl, fh)
		}
	}

	// Progress: one report per run, the last one complete.
	if len(progress) != 4 || progress[3].Done != 4 || progress[3].Total != 4 || progress[3].Remaining != 0 {
		t.Errorf("progress reports %+v", progress)
	}

	// Every cell was rendered like `brownout run`, and the sweep's own
	// outputs are there.
	for _, c := range res.Cells {
		for _, f := range []string{"run.json", "summary.json", "report.md", "dashboard.png"} {
			if _, err := os.Stat(filepath.Join(c.Dir, f)); err != nil {
				t.Errorf("cell %s: %v", c.Name, err)
			}
		}
	}
	for _, f := range append(heatmapFiles(), CSVFile, JSONFile, MarkdownFile) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	rows := readCSV(t, filepath.Join(dir, CSVFile))
	if len(rows) != 5 {
		t.Fatalf("sweep.csv has %d rows, want a header and 4 cells", len(rows))
	}
	for i, c := range res.Cells {
		if rows[i+1][0] != c.Name {
			t.Errorf("csv row %d is %q, want %q (grid order)", i+1, rows[i+1][0], c.Name)
		}
	}
	var js struct {
		Cells []struct {
			Name    string
			Metrics map[string]struct{ Mean *float64 }
		}
		Recommendation struct{ Best string }
	}
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatalf("sweep.json: %v", err)
	}
	if len(js.Cells) != 4 || js.Cells[0].Metrics[Availability].Mean == nil {
		t.Errorf("sweep.json cells: %+v", js.Cells)
	}
	if js.Recommendation.Best != res.Recommendation.Best {
		t.Errorf("sweep.json recommends %q, result %q", js.Recommendation.Best, res.Recommendation.Best)
	}
}

func heatmapFiles() []string {
	out := []string{PassFailFile}
	for _, h := range Heatmaps {
		out = append(out, h.File)
	}
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// TestSweepInterrupted cancels a sweep while its second wave of runs plays:
// the first wave's cells are kept, the others marked, and a partial report
// is written.
func TestSweepInterrupted(t *testing.T) {
	sc, err := scenarios.Builtin("hard-outage") // 270 s of scenario time per run
	if err != nil {
		t.Fatal(err)
	}
	g := Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{10 * time.Second, 30 * time.Second}}
	dir := filepath.Join(t.TempDir(), "sweep")
	var res *Result
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(400*time.Second, cancel)
		res, err = Run(ctx, sc, g, WithOutDir(dir), WithTimeScale(1), WithParallel(1), WithRunOptions(sim.InMemory()))
		if err != nil {
			t.Fatal(err)
		}
	})
	if !res.Interrupted {
		t.Error("Result.Interrupted = false")
	}
	if got := []CellStatus{res.Cells[0].Status, res.Cells[1].Status}; got[0] != CellDone || got[1] != CellInterrupted {
		t.Errorf("cell statuses %v, want [done interrupted]", got)
	}
	if res.Cells[1].Stats != nil {
		t.Error("interrupted cell has figures")
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**Interrupted:** 1 of 2 cells finished") {
		t.Errorf("sweep.md does not say it is partial:\n%s", md)
	}
	if rows := readCSV(t, filepath.Join(dir, CSVFile)); len(rows) != 3 || rows[2][1] != string(CellInterrupted) {
		t.Errorf("sweep.csv rows %v", rows)
	}
	// The interrupted cell's recording is still valid and marked.
	h, err := recording.ReadHeader(res.Cells[1].Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Interrupted {
		t.Error("interrupted cell's run.json is not marked interrupted")
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	sc, err := scenarios.Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	ok := Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{10 * time.Second}}
	dir := t.TempDir()
	tests := []struct {
		name string
		g    Grid
		opts []Option
		want string
	}{
		{"no out dir", ok, nil, "no output folder"},
		{"bad grid", Grid{FailThresholds: []int{5}}, []Option{WithOutDir(dir)}, "reset timeouts"},
		{"repeat 0", ok, []Option{WithOutDir(dir), WithRepeat(0)}, "repeat 0"},
		{"parallel 0", ok, []Option{WithOutDir(dir), WithParallel(0)}, "parallel 0"},
		{"time scale too high for a cell", Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{100 * time.Millisecond}},
			[]Option{WithOutDir(dir), WithTimeScale(20)}, "cell ft5-rt100ms: time scale 20 is too high"},
		{"cell the scenario refuses", Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{10 * time.Second}, Windows: []time.Duration{time.Millisecond}},
			[]Option{WithOutDir(dir)}, "cell ft5-rt10s-w1ms: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), sc, tc.g, tc.opts...)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || strings.Count(err.Error(), "cell ") > 1 {
				t.Errorf("err = %v, want ErrInvalid saying %q, naming a cell at most once", err, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused sweep wrote %d entries", len(entries))
	}
}

// BenchmarkSweepHardOutage4x4 plays the 4×4 grid of issue 7 (fail threshold
// 3, 5, 10, 20 × reset timeout 5 s, 15 s, 30 s, 60 s) of hard-outage, 4.5
// minutes of scenario time per cell, on real loopback sockets at the time
// scale --time-scale auto chooses with one run per CPU, and reports the
// real time of the whole sweep, calibration included.
func BenchmarkSweepHardOutage4x4(b *testing.B) {
	sc, err := scenarios.Builtin("hard-outage")
	if err != nil {
		b.Fatal(err)
	}
	g := Grid{FailThresholds: []int{3, 5, 10, 20}, ResetTimeouts: []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, 60 * time.Second}}
	for b.Loop() {
		start := time.Now()
		choice, err := sim.AutoTimeScale(context.Background(), sc, sim.AutoConfig{Parallel: runtime.NumCPU(), Accept: CellsAccept(sc, g)})
		if err != nil {
			b.Fatal(err)
		}
		b.Log(choice.Why)
		b.ReportMetric(choice.Scale, "time-scale")
		res, err := Run(context.Background(), sc, g, WithOutDir(filepath.Join(b.TempDir(), "sweep")), WithTimeScale(choice.Scale))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/sweep")
		passed := 0
		for _, c := range res.Cells {
			if c.Status != CellDone {
				b.Errorf("cell %s: %s", c.Name, c.Status)
			}
			if c.Passed {
				passed++
			}
		}
		b.ReportMetric(float64(passed), "cells-passed")
	}
}

// TestSweepRunErrors: a run that fails marks its cell and the sweep goes
// on; when the first runs all fail, the sweep stops with the error.
func TestSweepRunErrors(t *testing.T) {
	sc, err := scenarios.Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	g := Grid{FailThresholds: []int{5}, ResetTimeouts: []time.Duration{10 * time.Second, 30 * time.Second}}

	t.Run("one cell fails", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "sweep")
		// A file where the cell's folder goes: its recording cannot start.
		if err := os.MkdirAll(filepath.Join(dir, CellsDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, CellsDir, "ft5-rt30s"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		var res *Result
		synctest.Test(t, func(t *testing.T) {
			res, err = Run(context.Background(), sc, g, WithOutDir(dir), WithTimeScale(1), WithParallel(1), WithRunOptions(sim.InMemory()))
			if err != nil {
				t.Fatal(err)
			}
		})
		if res.Cells[0].Status != CellDone || res.Cells[1].Status != CellError {
			t.Fatalf("statuses %s, %s; want done, error", res.Cells[0].Status, res.Cells[1].Status)
		}
		if e := res.Cells[1].Runs[0].Err; !strings.Contains(e, "cell ft5-rt30s seed 42") {
			t.Errorf("error %q does not name the cell", e)
		}
		md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(md), "## Errors") || !strings.Contains(string(md), "| ft5-rt30s | error |") {
			t.Errorf("sweep.md does not show the failed cell:\n%s", md)
		}
	})

	t.Run("every run fails", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "sweep")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, CellsDir), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Run(context.Background(), sc, g, WithOutDir(dir), WithTimeScale(1), WithParallel(1), WithRunOptions(sim.InMemory()))
		if err == nil || errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "cell ft5-rt10s seed 42") {
			t.Errorf("err = %v, want the first run's failure", err)
		}
	})
}
