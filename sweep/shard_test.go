package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"brownout/scenarios"
	"brownout/shard"
	"brownout/sim"
)

var tinyGrid = Grid{FailThresholds: []int{2, 5}, ResetTimeouts: []time.Duration{500 * time.Millisecond, time.Second}}

func tinySweep(t *testing.T, dir string, extra ...Option) *Result {
	t.Helper()
	// The CI examples' scenario: a 6 s hard outage, small enough that a
	// sweep of it plays in moments in virtual time.
	sc, err := scenarios.Load(filepath.Join("..", "docs", "ci", "sweep-scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var res *Result
	synctest.Test(t, func(t *testing.T) {
		opts := append([]Option{WithOutDir(dir), WithTimeScale(1), WithParallel(2),
			WithVersion("test"), WithRunOptions(sim.InMemory())}, extra...)
		res, err = Run(context.Background(), sc, tinyGrid, opts...)
		if err != nil {
			t.Fatal(err)
		}
	})
	return res
}

// normalize drops what differs between two plays of the same sweep that
// is not a result: wall-clock times and the output folder.
func normalize(t *testing.T, b []byte, dir string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(b), dir, "DIR")), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "elapsed_s")
	for _, c := range m["cells"].([]any) {
		for _, r := range c.(map[string]any)["runs"].([]any) {
			delete(r.(map[string]any), "wall_s")
		}
	}
	return m
}

// TestShardedSweepMergesToUnsharded plays a 2×2 grid whole, then as four
// shards played in a scrambled order, and merges
// them (given in another order): the cells, sweep.csv, sweep.json apart
// from wall-clock times, and the recommendation are the unsharded ones.
func TestShardedSweepMergesToUnsharded(t *testing.T) {
	tmp := t.TempDir()
	wholeDir := filepath.Join(tmp, "whole")
	whole := tinySweep(t, wholeDir)

	played := map[string]int{}
	dirs := map[int]string{}
	for _, i := range []int{3, 1, 4, 2} {
		d := filepath.Join(tmp, "shard", string(rune('0'+i)))
		res := tinySweep(t, d, WithShard(shard.Shard{Index: i, Of: 4}))
		dirs[i] = d
		for _, c := range res.Cells {
			if c.Status != CellOtherShard {
				played[c.Name]++
			}
		}
	}
	if len(played) != 4 {
		t.Fatalf("the shards played %v: want all 4 cells", played)
	}
	for name, n := range played {
		if n != 1 {
			t.Errorf("cell %s played by %d shards", name, n)
		}
	}

	mergedDir := filepath.Join(tmp, "merged")
	merged, err := Merge([]string{dirs[2], dirs[4], dirs[1], dirs[3]}, mergedDir)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Recommendation.Best != whole.Recommendation.Best || merged.Recommendation.RunnerUp != whole.Recommendation.RunnerUp ||
		merged.Recommendation.Why != whole.Recommendation.Why {
		t.Errorf("merged recommends %+v, unsharded %+v", merged.Recommendation, whole.Recommendation)
	}
	if whole.Recommendation.Best == "" {
		t.Error("the unsharded sweep recommends nothing: the test would not see a wrong recommendation")
	}
	read := func(dir, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if a, b := read(wholeDir, CSVFile), read(mergedDir, CSVFile); string(a) != string(b) {
		t.Errorf("merged sweep.csv differs:\n%s\nunsharded:\n%s", b, a)
	}
	wj, mj := normalize(t, read(wholeDir, JSONFile), wholeDir), normalize(t, read(mergedDir, JSONFile), mergedDir)
	wb, _ := json.Marshal(wj)
	mb, _ := json.Marshal(mj)
	if string(wb) != string(mb) {
		t.Errorf("merged sweep.json differs apart from times:\n%s\nunsharded:\n%s", mb, wb)
	}
	for _, f := range heatmapFiles() {
		if string(read(wholeDir, f)) != string(read(mergedDir, f)) {
			t.Errorf("merged %s differs from the unsharded one", f)
		}
	}
	if _, err := os.Stat(filepath.Join(mergedDir, ManifestFile)); err == nil {
		t.Errorf("the merged folder has a %s: an unsharded sweep has none", ManifestFile)
	}
	for _, c := range merged.Cells {
		if _, err := os.Stat(filepath.Join(c.Dir, "report.md")); err != nil {
			t.Errorf("cell %s: %v", c.Name, err)
		}
	}

	// Refusals: an incomplete set names the missing shard and its cells;
	// a shard twice; shards of another sweep.
	_, err = Merge([]string{dirs[1], dirs[2], dirs[4]}, filepath.Join(tmp, "m2"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "missing shard 3 of 4 (cells ft5-rt500ms)") {
		t.Errorf("merging without shard 3: %v", err)
	}
	_, err = Merge([]string{dirs[1], dirs[2], dirs[2], dirs[3]}, filepath.Join(tmp, "m3"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "both shard 2 of 4") {
		t.Errorf("merging shard 2 twice: %v", err)
	}
	// A shard of a sweep with other settings: shard 3's manifest as if it
	// had been played with --parallel 1.
	other := filepath.Join(tmp, "other")
	if err := os.CopyFS(other, os.DirFS(dirs[3])); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(other)
	if err != nil {
		t.Fatal(err)
	}
	m.Parallel = 1
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Merge([]string{dirs[1], dirs[2], other, dirs[4]}, filepath.Join(tmp, "m4"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "differ in parallel (2 vs 1)") {
		t.Errorf("merging a shard of another sweep: %v", err)
	}
}
