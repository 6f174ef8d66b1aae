package sweep

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"brownout/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// handResult is a finished 2×2 sweep built by hand: one cell passes, one
// fails two thresholds, one passes but closes later, one was interrupted.
func handResult() *Result {
	g := Grid{FailThresholds: []int{3, 10}, ResetTimeouts: []time.Duration{10 * time.Second, 30 * time.Second}}
	mk := func(s Settings, ttc, fails, avail float64, failed ...string) Cell {
		c := cell(s.Name(), map[string]float64{
			TimeToCloseRecovery: ttc, "upstream_failures": fails, Availability: avail, "unavailable_ratio": 1 - avail,
			"fallback_ratio": 0.4, "latency_p99": 0.0421, HalfOpenProbes: 9, FailuresBeforeTrip: float64(s.FailThreshold + 1),
		}, failed...)
		c.Settings = s
		c.Dir = filepath.Join("out", "hard-outage-sweep", CellsDir, s.Name())
		c.Breaker = scenarios.Breaker{Enabled: true, Policy: "consecutive", FailThreshold: s.FailThreshold, FailureRatio: 0.5,
			MinRequests: 20, ResetTimeout: scenarios.Duration(s.ResetTimeout), HalfOpenMaxRequests: 1}
		c.Runs = []RunResult{{Seed: 42, Dir: c.Dir, Passed: c.Passed, Wall: 12500 * time.Millisecond}}
		return c
	}
	cells := g.Cells()
	r := &Result{
		Scenario: "hard-outage", Description: "The inference API is hard down for 90 s, then recovers.",
		Dir: filepath.Join("out", "hard-outage-sweep"), Grid: g, TimeScale: 20, Repeat: 1, Seeds: []int64{42}, Parallel: 2,
		Objective: DefaultObjective, Elapsed: 95 * time.Second,
		Cells: []Cell{
			mk(cells[0], 2.1, 40, 1),
			mk(cells[1], 31.5, 20, 0.995, "a < 1", "c == 0"),
			mk(cells[2], 8, 60, 1),
			{Name: cells[3].Name(), Settings: cells[3], Status: CellInterrupted, Dir: filepath.Join("out", "hard-outage-sweep", CellsDir, cells[3].Name()),
				Runs: []RunResult{{Seed: 42, Interrupted: true}}},
		},
	}
	r.Cells[3].Breaker = r.Cells[2].Breaker
	r.Cells[3].Breaker.ResetTimeout = scenarios.Duration(30 * time.Second)
	r.Interrupted = true
	r.Warnings = []string{"threshold latency_p99{phase:outage} < 100ms is 5ms of real time at time scale 20, under the 10ms this machine times reliably; its verdicts may be noise (use a time scale of at most 10 for it)"}
	r.Recommendation = Recommend(r.Cells, r.Objective)
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from %s (-want +got):\n%s", name, path, diff)
	}
}

func TestOutputsGolden(t *testing.T) {
	r := handResult()
	if r.Recommendation.Best != "ft3-rt10s" || r.Recommendation.RunnerUp != "ft10-rt10s" {
		t.Fatalf("recommendation %+v", r.Recommendation)
	}
	c, err := r.CSV()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sweep.csv", c)
	j, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sweep.json", j)
	golden(t, "sweep.md", r.Markdown())

	// Stable: a second rendering is byte-identical.
	j2, _ := r.JSON()
	if !bytes.Equal(j, j2) {
		t.Error("sweep.json differs between two renderings")
	}
}

func TestWriteDrawsReadableHeatmaps(t *testing.T) {
	r := handResult()
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	if got, want := len(r.Files), len(Heatmaps)+4; got != want {
		t.Errorf("%d files written, want %d: %v", got, want, r.Files)
	}
	for _, f := range heatmapFiles() {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b := img.Bounds()
		if b.Dx() < 1600 || b.Dy() < 300 {
			t.Errorf("%s is %dx%d, want at least 1600x300", f, b.Dx(), b.Dy())
		}
		colours := map[uint32]bool{}
		for y := b.Min.Y; y < b.Max.Y; y += 7 {
			for x := b.Min.X; x < b.Max.X; x += 7 {
				r, g, bl, _ := img.At(x, y).RGBA()
				colours[r>>8<<16|g>>8<<8|bl>>8] = true
			}
		}
		if len(colours) < 5 {
			t.Errorf("%s looks blank: %d colours", f, len(colours))
		}
	}
}
