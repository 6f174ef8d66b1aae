package sweep

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"brownout/recording"
	"brownout/reports"
	"brownout/scenarios"
	"brownout/shard"
	"brownout/sim"
)

// ErrInvalid marks an error in the sweep's input (grid, options, a cell's
// settings that the scenario refuses, a time scale too high), as opposed to
// a failure while running; the CLI exits 2 for it.
var ErrInvalid = errors.New("sweep: invalid input")

// CellsDir is the folder under the sweep's output folder that holds one
// run folder per cell (DIR/cells/<name>/, or DIR/cells/<name>/seed-<n>/
// with repeats).
const CellsDir = "cells"

type job struct {
	cell, rep int
	seed      int64
	sc        *scenarios.Scenario
	dir       string
}

// Run plays sc over every cell of g, records each run under the output
// folder, renders each with reports.Render (so `brownout report` can
// re-render any cell), and writes the sweep's heatmaps, sweep.csv,
// sweep.json and sweep.md. When ctx is cancelled it stops the runs in
// progress, keeps the cells that finished, writes a partial report and
// returns it with Interrupted set. Input errors wrap ErrInvalid.
func Run(ctx context.Context, sc *scenarios.Scenario, g Grid, opts ...Option) (*Result, error) {
	o := options{parallel: runtime.NumCPU(), repeat: 1, shard: shard.All}
	for _, opt := range opts {
		opt(&o)
	}
	res, jobs, err := plan(sc, g, &o)
	if err != nil {
		return nil, err
	}
	jobs = res.selectShard(jobs, o.shard)
	start := time.Now()
	if err := runJobs(ctx, res, jobs, &o, start); err != nil {
		return nil, err
	}
	res.Interrupted = ctx.Err() != nil
	res.finish()
	res.Elapsed = time.Since(start)
	if err := res.Write(o.outDir); err != nil {
		return nil, err
	}
	if o.shard.Of > 1 {
		if err := writeManifest(sc, g, &o, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// finish aggregates every played cell and recommends one.
func (res *Result) finish() {
	for i := range res.Cells {
		if res.Cells[i].Status != CellOtherShard {
			res.Cells[i].finish()
		}
	}
	res.Recommendation = Recommend(res.Cells, res.Objective)
}

// plan checks the options and the grid and lays out the result and one
// job per run, before anything plays: Run plays the jobs, Merge reads them
// back from shard folders.
func plan(sc *scenarios.Scenario, g Grid, o *options) (*Result, []job, error) {
	if o.outDir == "" {
		return nil, nil, fmt.Errorf("%w: no output folder", ErrInvalid)
	}
	if o.parallel < 1 {
		return nil, nil, fmt.Errorf("%w: parallel %d: must be at least 1", ErrInvalid, o.parallel)
	}
	if o.repeat < 1 {
		return nil, nil, fmt.Errorf("%w: repeat %d: must be at least 1", ErrInvalid, o.repeat)
	}
	if err := g.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if o.objective == nil {
		o.objective = DefaultObjective
	}
	if o.scale == 0 {
		o.scale = sc.TimeScale
	}
	if o.scale == 0 {
		o.scale = 1
	}
	// Durations closer than the machine's timing resolution, in scenario
	// time, tie.
	obj := make([]Objective, len(o.objective))
	for i, ob := range o.objective {
		if unitOf(ob.Metric) == scenarios.UnitDuration && ob.Tolerance == 0 {
			ob.Tolerance = sim.MinScaledDuration.Seconds() * o.scale
		}
		obj[i] = ob
	}
	o.objective = obj
	res := &Result{
		Scenario: sc.Name, Description: sc.Description, Dir: o.outDir, Grid: g,
		TimeScale: o.scale, Repeat: o.repeat, Parallel: o.parallel, Objective: o.objective,
		Warnings: TimeScaleWarnings(sc, o.scale),
	}
	for i := range o.repeat {
		res.Seeds = append(res.Seeds, sc.Seed+int64(i))
	}

	// Build and check every run's scenario before playing any, so a bad
	// cell is refused up front rather than after minutes of runs.
	var jobs []job
	var errs []error
	for ci, s := range g.Cells() {
		c := Cell{Name: s.Name(), Settings: s, Dir: filepath.Join(o.outDir, CellsDir, s.Name()), Status: CellInterrupted}
		for ri, seed := range res.Seeds {
			csc, err := s.Apply(sc, seed) // its errors name the cell
			if err == nil {
				if err = sim.CheckTimeScale(csc, o.scale); err != nil {
					err = fmt.Errorf("cell %s: %w", c.Name, err)
				}
			}
			if err != nil {
				errs = append(errs, err)
				break
			}
			dir := c.Dir
			if o.repeat > 1 {
				dir = filepath.Join(c.Dir, "seed-"+strconv.FormatInt(seed, 10))
			}
			c.Breaker = csc.Breaker
			c.Runs = append(c.Runs, RunResult{Seed: seed, Dir: dir, Interrupted: true})
			jobs = append(jobs, job{cell: ci, rep: ri, seed: seed, sc: csc, dir: dir})
		}
		res.Cells = append(res.Cells, c)
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return res, jobs, nil
}

// runJobs plays the jobs with bounded parallelism and fills in the cells'
// runs. A run that fails marks its cell and the sweep goes on, unless the
// first `parallel` runs all fail (a broken setup, not a bad cell): then it
// stops and returns the first error, as it does when every run failed.
func runJobs(ctx context.Context, res *Result, jobs []job, o *options, start time.Time) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		failed   int
		done     int
		wall     time.Duration
		running  int
		aborted  bool
		wg       sync.WaitGroup
	)
	queue := make(chan job)
	var progressMu sync.Mutex // serializes the progress callback
	finished := func(j job, rr RunResult, err error) {
		mu.Lock()
		if err != nil {
			err = fmt.Errorf("cell %s seed %d: %w", res.Cells[j.cell].Name, j.seed, err)
			rr.Err = err.Error()
			if firstErr == nil {
				firstErr = err
			}
			failed++
		}
		res.Cells[j.cell].Runs[j.rep] = rr
		done++
		running--
		wall += rr.Wall
		if err != nil && failed == done && failed >= min(o.parallel, len(jobs)) {
			// The first runs all failed: a broken setup, not a bad cell.
			aborted = true
			cancel()
		}
		p := Progress{Done: done, Total: len(jobs), Running: running, Elapsed: time.Since(start),
			Cell: res.Cells[j.cell].Name, Seed: j.seed, Passed: rr.Passed, Interrupted: rr.Interrupted, Err: rr.Err}
		if left := len(jobs) - done; left > 0 && runCtx.Err() == nil {
			// Runs left × the mean real time of a run, spread over the
			// lanes that will play them.
			p.Remaining = time.Duration(float64(wall) / float64(done) * float64(left) / float64(min(o.parallel, left)))
		}
		progressMu.Lock()
		mu.Unlock()
		defer progressMu.Unlock()
		if o.progress != nil {
			o.progress(p)
		}
	}
	for range min(o.parallel, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				rr, err := playOne(runCtx, j, o)
				finished(j, rr, err)
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case <-runCtx.Done():
			break feed
		case queue <- j:
			mu.Lock()
			running++
			mu.Unlock()
		}
	}
	close(queue)
	wg.Wait()
	if aborted || (failed > 0 && failed == len(jobs)) {
		return firstErr
	}
	return nil
}

// playOne plays one run and renders its report.
func playOne(ctx context.Context, j job, o *options) (RunResult, error) {
	rr := RunResult{Seed: j.seed, Dir: j.dir}
	t0 := time.Now()
	// A sweep re-run into its folder replaces its cells, as it always has.
	simOpts := append([]sim.Option{sim.WithOutDir(j.dir), sim.WithTimeScale(o.scale), sim.WithVersion(o.version),
		sim.WithRecordingOptions(recording.Replace(), recording.Derived(reports.OutputFiles...))}, o.simOpts...)
	out, err := sim.Run(ctx, j.sc, simOpts...)
	if err != nil {
		rr.Wall = time.Since(t0)
		return rr, err
	}
	if out.Interrupted {
		rr.Interrupted = true
		rr.Wall = time.Since(t0)
		return rr, nil
	}
	rec, err := reports.Load(j.dir)
	if err != nil {
		return rr, err
	}
	rep, err := reports.RenderRecording(rec, reports.Options{})
	if err != nil {
		return rr, err
	}
	vals, err := runValues(rec)
	if err != nil {
		return rr, err
	}
	rr.Values, rr.Verdicts, rr.Passed = vals, rep.Verdicts, rep.Passed
	rr.Distorted = rep.Distortion != nil && rep.Distortion.Distorted
	rr.Wall = time.Since(t0)
	return rr, nil
}
