package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"brownout/reports"
	"brownout/scenarios"
	"brownout/shard"
)

// ManifestFile is what a shard of a sweep writes besides the sweep's own
// outputs: everything Merge needs to check that shards belong together
// and to lay the whole sweep out again.
const ManifestFile = "sweep-shard.json"

// ManifestFormat is the version of the sweep-shard.json layout.
const ManifestFormat = 1

// Manifest describes one shard of a sweep.
type Manifest struct {
	Format       int         `json:"format"`
	Version      string      `json:"version"`
	Scenario     string      `json:"scenario"`
	ScenarioYAML string      `json:"scenario_yaml"` // the effective scenario, as scenarios.Marshal writes it
	Grid         Grid        `json:"grid"`
	TimeScale    float64     `json:"time_scale"`
	Repeat       int         `json:"repeat"`
	Parallel     int         `json:"parallel"`
	Objective    []Objective `json:"objective"`
	Shard        int         `json:"shard"`
	Shards       int         `json:"shards"`
	Cells        []string    `json:"cells"` // the cells this shard plays, in grid order
	Interrupted  bool        `json:"interrupted"`
	ElapsedS     float64     `json:"elapsed_s"`
}

// cellShards gives every cell of the grid its shard: cells all play for
// the same time, so the assignment is round-robin in grid order.
func cellShards(n, of int) []int {
	return shard.Assign(make([]float64, n), of)
}

// selectShard keeps the jobs of the shard's cells and marks the others.
func (res *Result) selectShard(jobs []job, s shard.Shard) []job {
	if s.Of <= 1 {
		return jobs
	}
	owner := cellShards(len(res.Cells), s.Of)
	for i := range res.Cells {
		if owner[i] != s.Index {
			res.Cells[i].Status = CellOtherShard
		}
	}
	return slices.DeleteFunc(jobs, func(j job) bool { return owner[j.cell] != s.Index })
}

func writeManifest(sc *scenarios.Scenario, g Grid, o *options, res *Result) error {
	y, err := scenarios.Marshal(sc)
	if err != nil {
		return fmt.Errorf("sweep: %s: %w", ManifestFile, err)
	}
	m := Manifest{
		Format: ManifestFormat, Version: o.version, Scenario: sc.Name, ScenarioYAML: string(y), Grid: g,
		TimeScale: o.scale, Repeat: o.repeat, Parallel: o.parallel, Objective: o.objective,
		Shard: o.shard.Index, Shards: o.shard.Of, Cells: []string{}, Interrupted: res.Interrupted,
		ElapsedS: math.Round(res.Elapsed.Seconds()*1000) / 1000,
	}
	for _, c := range res.Cells {
		if c.Status != CellOtherShard {
			m.Cells = append(m.Cells, c.Name)
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: %s: %w", ManifestFile, err)
	}
	p := filepath.Join(o.outDir, ManifestFile)
	if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	res.Files = append(res.Files, p)
	return nil
}

// ReadManifest reads dir/sweep-shard.json.
func ReadManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, p, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%w: %s: format %d, this brownout reads %d", ErrInvalid, p, m.Format, ManifestFormat)
	}
	return &m, nil
}

// same lists the settings on which two shards differ.
func (m *Manifest) differences(o *Manifest) []string {
	var out []string
	check := func(what string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			out = append(out, fmt.Sprintf("%s (%v vs %v)", what, a, b))
		}
	}
	check("brownout version", m.Version, o.Version)
	check("scenario", m.Scenario, o.Scenario)
	if m.ScenarioYAML != o.ScenarioYAML && m.Scenario == o.Scenario {
		out = append(out, "scenario content (same name, different settings)")
	}
	check("grid", m.Grid, o.Grid)
	check("time scale", m.TimeScale, o.TimeScale)
	check("repeat", m.Repeat, o.Repeat)
	check("parallel", m.Parallel, o.Parallel)
	check("objective", m.Objective, o.Objective)
	check("number of shards", m.Shards, o.Shards)
	return out
}

// runRecord is what a shard's sweep.json says about one run, for what the
// run folder cannot tell: its error and its wall time.
type runRecord struct {
	Seed        int64   `json:"seed"`
	Interrupted bool    `json:"interrupted"`
	Error       string  `json:"error"`
	WallS       float64 `json:"wall_s"`
}

func readRunRecords(dir string) (map[string][]runRecord, error) {
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	var js struct {
		Cells []struct {
			Name string      `json:"name"`
			Runs []runRecord `json:"runs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &js); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, filepath.Join(dir, JSONFile), err)
	}
	out := map[string][]runRecord{}
	for _, c := range js.Cells {
		out[c.Name] = c.Runs
	}
	return out, nil
}

// Merge combines the output folders of every shard of one sweep (played
// with WithShard) into out: it copies their cell folders to out/cells/,
// judges every run from its recording as Run does, and writes the heatmaps,
// sweep.csv, sweep.json and sweep.md an unsharded sweep writes. Shards of
// different scenarios, grids, settings or brownout versions, a shard given
// twice, and a missing shard are refused with ErrInvalid, naming the
// difference or the missing shards and their cells. Order does not matter.
func Merge(dirs []string, out string) (*Result, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: no shard folders", ErrInvalid)
	}
	ms := make([]*Manifest, len(dirs))
	for i, d := range dirs {
		m, err := ReadManifest(d)
		if err != nil {
			return nil, err
		}
		ms[i] = m
	}
	first := ms[0]
	byShard := map[int]int{}
	for i, m := range ms {
		if diff := first.differences(m); len(diff) > 0 {
			return nil, fmt.Errorf("%w: %s and %s are not shards of one sweep: they differ in %s", ErrInvalid, dirs[0], dirs[i], strings.Join(diff, ", "))
		}
		if m.Shard < 1 || m.Shard > m.Shards {
			return nil, fmt.Errorf("%w: %s: shard %d of %d", ErrInvalid, dirs[i], m.Shard, m.Shards)
		}
		if prev, dup := byShard[m.Shard]; dup {
			return nil, fmt.Errorf("%w: %s and %s are both shard %d of %d", ErrInvalid, dirs[prev], dirs[i], m.Shard, m.Shards)
		}
		byShard[m.Shard] = i
	}
	sc, err := scenarios.Parse(filepath.Join(dirs[0], ManifestFile)+" (scenario_yaml)", []byte(first.ScenarioYAML))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	o := options{outDir: out, parallel: first.Parallel, repeat: first.Repeat, scale: first.TimeScale,
		objective: first.Objective, version: first.Version, shard: shard.All}
	res, jobs, err := plan(sc, first.Grid, &o)
	if err != nil {
		return nil, err
	}
	owner := cellShards(len(res.Cells), first.Shards)
	var missing []string
	for k := 1; k <= first.Shards; k++ {
		if _, ok := byShard[k]; ok {
			continue
		}
		var names []string
		for i, c := range res.Cells {
			if owner[i] == k {
				names = append(names, c.Name)
			}
		}
		missing = append(missing, fmt.Sprintf("shard %d of %d (cells %s)", k, first.Shards, strings.Join(names, ", ")))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: incomplete set of shards: missing %s", ErrInvalid, strings.Join(missing, "; "))
	}
	records := make([]map[string][]runRecord, len(dirs))
	for i, d := range dirs {
		if records[i], err = readRunRecords(d); err != nil {
			return nil, err
		}
		var want []string
		for ci, c := range res.Cells {
			if owner[ci] == ms[i].Shard {
				want = append(want, c.Name)
			}
		}
		if !slices.Equal(want, ms[i].Cells) {
			return nil, fmt.Errorf("%w: %s played cells %v, but shard %d of %d holds %v", ErrInvalid, d, ms[i].Cells, ms[i].Shard, ms[i].Shards, want)
		}
	}
	for ci, c := range res.Cells {
		src := dirs[byShard[owner[ci]]]
		if err := copyTree(filepath.Join(src, CellsDir, c.Name), c.Dir); err != nil {
			return nil, err
		}
	}
	for _, j := range jobs {
		i := byShard[owner[j.cell]]
		cell := &res.Cells[j.cell]
		rr := RunResult{Seed: j.seed, Dir: j.dir, Interrupted: true}
		for _, rec := range records[i][cell.Name] {
			if rec.Seed != j.seed {
				continue
			}
			rr.Wall = time.Duration(rec.WallS * float64(time.Second))
			switch {
			case rec.Error != "":
				rr.Interrupted, rr.Err = false, rec.Error
			case !rec.Interrupted:
				judged, err := judgeRun(j)
				if err != nil {
					return nil, fmt.Errorf("sweep: cell %s seed %d: %w", cell.Name, j.seed, err)
				}
				judged.Wall = rr.Wall
				rr = judged
			}
		}
		cell.Runs[j.rep] = rr
	}
	for _, m := range ms {
		res.Interrupted = res.Interrupted || m.Interrupted
		res.Elapsed = max(res.Elapsed, time.Duration(m.ElapsedS*float64(time.Second)))
	}
	res.finish()
	if err := res.Write(out); err != nil {
		return nil, err
	}
	return res, nil
}

// judgeRun computes a recorded run's metrics and verdicts as playOne does
// after rendering it, without writing anything.
func judgeRun(j job) (RunResult, error) {
	rr := RunResult{Seed: j.seed, Dir: j.dir}
	r, err := reports.Load(j.dir)
	if err != nil {
		return rr, err
	}
	if r.Header.Interrupted {
		rr.Interrupted = true
		return rr, nil
	}
	ths := j.sc.Thresholds
	if err := r.Check(ths); err != nil {
		return rr, err
	}
	vs := reports.Evaluate(r, ths)
	sum := reports.Summarize(r, vs)
	vals, err := runValues(r)
	if err != nil {
		return rr, err
	}
	rr.Values, rr.Verdicts, rr.Passed = vals, vs, sum.Passed
	return rr, nil
}

// copyTree copies a shard's cell folder into the merged folder, refusing
// to overwrite one already there. A cell that left no folder (its run
// failed before recording) is skipped.
func copyTree(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%w: %s exists already: merge into a new folder", ErrInvalid, dst)
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		return fmt.Errorf("sweep: copy %s to %s: %w", src, dst, err)
	}
	return nil
}
