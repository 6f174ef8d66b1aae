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

	"brownout/reports"
	"brownout/scenarios"
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

// Option configures a sweep Run.
type Option func(*options)

type options struct {
	outDir    string
	parallel  int
	repeat    int
	scale     float64
	objective []Objective
	progress  func(Progress)
	simOpts   []sim.Option
	version   string
}

// WithOutDir sets the sweep's output folder; without it the sweep records
// nothing to disk and cannot render reports, so Run requires it.
func WithOutDir(dir string) Option { return func(o *options) { o.outDir = dir } }

// WithParallel sets how many runs play at once (default runtime.NumCPU()).
// Every run has its own servers and ports, so runs never share state; more
// parallel runs than cores make each one's timing noisier.
func WithParallel(p int) Option { return func(o *options) { o.parallel = p } }

// WithRepeat plays every cell n times with the seeds seed, seed+1, …,
// seed+n−1 (seed is the scenario's); the cell's metrics are aggregated as
// mean, minimum and maximum over them, and the cell passes only if every
// run passes every threshold.
func WithRepeat(n int) Option { return func(o *options) { o.repeat = n } }

// WithTimeScale compresses every run's time by k (see sim.WithTimeScale).
// Zero keeps the scenario's own time_scale.
func WithTimeScale(k float64) Option { return func(o *options) { o.scale = k } }

// WithObjective sets how passing cells are ranked for the recommendation
// (default DefaultObjective).
func WithObjective(obj []Objective) Option { return func(o *options) { o.objective = obj } }

// WithProgress calls fn after every run that finishes. Calls are
// serialized.
func WithProgress(fn func(Progress)) Option { return func(o *options) { o.progress = fn } }

// WithRunOptions adds options to every cell's sim.Run, e.g. sim.InMemory()
// for virtual-time tests.
func WithRunOptions(opts ...sim.Option) Option {
	return func(o *options) { o.simOpts = append(o.simOpts, opts...) }
}

// WithVersion records the brownout version in every run's header.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// Progress reports a sweep under way, after each run that finishes.
type Progress struct {
	Done, Total int           // runs finished (or skipped after an interrupt) and all runs
	Running     int           // runs playing now
	Elapsed     time.Duration // since the sweep started
	Remaining   time.Duration // estimate: mean real time per finished run × runs left ÷ parallel lanes
	Cell        string        // the cell of the run that just finished
	Seed        int64
	Passed      bool   // whether that run passed every threshold
	Interrupted bool   // whether that run was cut short
	Err         string // why that run failed, "" when it did not
}

// Result is a sweep's outcome: every cell in grid order, the
// recommendation and the files written.
type Result struct {
	Scenario    string
	Description string
	Dir         string
	Grid        Grid
	TimeScale   float64
	Repeat      int
	Seeds       []int64
	Parallel    int
	Objective   []Objective
	// Warnings are the thresholds too tight for the time scale (see
	// TimeScaleWarnings).
	Warnings []string
	Cells    []Cell
	// Recommendation is computed over the cells that finished.
	Recommendation Recommendation
	// Interrupted is set when the context was cancelled: the cells that
	// finished are kept and reported, the others are marked.
	Interrupted bool
	Elapsed     time.Duration
	// Files are the sweep's own outputs written into Dir, in order.
	Files []string
}

// CellStatus says how far a cell got.
type CellStatus string

// The states of a cell.
const (
	// CellDone: every run of the cell played out and was rendered.
	CellDone CellStatus = "done"
	// CellInterrupted: the sweep was interrupted before every run of the
	// cell finished; the cell is left out of the figures.
	CellInterrupted CellStatus = "interrupted"
	// CellError: a run of the cell failed (see RunResult.Err); the cell is
	// left out of the figures and the other cells go on.
	CellError CellStatus = "error"
)

// Cell is one grid point: its settings, its runs (one per seed) and the
// aggregate of their metrics and verdicts.
type Cell struct {
	Name     string
	Settings Settings
	// Breaker is the cell's effective breaker configuration: the
	// scenario's with the cell's settings applied.
	Breaker scenarios.Breaker
	Dir     string // DIR/cells/<name>
	Status  CellStatus
	Runs    []RunResult
	// Stats aggregate each metric of MetricNames over the runs, in that
	// order; nil unless Status is CellDone.
	Stats []Stat
	// Thresholds are the scenario's threshold conditions judged over the
	// runs, in the scenario's order.
	Thresholds []ThresholdResult
	// Passed reports that every run passed every threshold.
	Passed bool
}

// Stat returns the cell's aggregate of metric.
func (c *Cell) Stat(metric string) (Stat, bool) {
	for i, m := range MetricNames {
		if m == metric && i < len(c.Stats) {
			return c.Stats[i], true
		}
	}
	return Stat{}, false
}

// Failed lists the names of the threshold conditions the cell failed.
func (c *Cell) Failed() []string {
	var out []string
	for _, t := range c.Thresholds {
		if !t.Passed {
			out = append(out, t.Name)
		}
	}
	return out
}

// RunResult is one run of a cell with one seed.
type RunResult struct {
	Seed        int64
	Dir         string
	Interrupted bool
	// Err is why the run failed to play or render; "" when it did not.
	Err      string
	Passed   bool
	Values   []Value // one per MetricNames entry
	Verdicts []reports.Verdict
	Wall     time.Duration // real time the run and its report took
}

// ThresholdResult is one threshold condition judged over a cell's runs.
type ThresholdResult struct {
	Name     string // the threshold and condition, e.g. "latency_p99{phase:outage} < 100ms"
	Metric   string
	Passes   int // runs that passed it
	Runs     int
	Passed   bool // passed in every run
	Observed Stat // the observed value over the runs
}

// Display renders the observed value.
func (t ThresholdResult) Display() string { return formatStat(t.Metric, t.Observed) }

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
	o := options{parallel: runtime.NumCPU(), repeat: 1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.outDir == "" {
		return nil, fmt.Errorf("%w: no output folder", ErrInvalid)
	}
	if o.parallel < 1 {
		return nil, fmt.Errorf("%w: parallel %d: must be at least 1", ErrInvalid, o.parallel)
	}
	if o.repeat < 1 {
		return nil, fmt.Errorf("%w: repeat %d: must be at least 1", ErrInvalid, o.repeat)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
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
			csc, err := s.Apply(sc, seed)
			if err == nil {
				err = sim.CheckTimeScale(csc, o.scale)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("cell %s: %w", c.Name, err))
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
		return nil, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}

	start := time.Now()
	if err := runJobs(ctx, res, jobs, &o, start); err != nil {
		return nil, err
	}
	res.Interrupted = ctx.Err() != nil
	for i := range res.Cells {
		res.Cells[i].finish()
	}
	res.Recommendation = Recommend(res.Cells, res.Objective)
	res.Elapsed = time.Since(start)
	if err := res.Write(o.outDir); err != nil {
		return nil, err
	}
	return res, nil
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
	simOpts := append([]sim.Option{sim.WithOutDir(j.dir), sim.WithTimeScale(o.scale), sim.WithVersion(o.version)}, o.simOpts...)
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
	rep, err := reports.Render(j.dir, reports.Options{})
	if err != nil {
		return rr, err
	}
	vals, err := runValues(j.dir, j.sc, rep.Summary)
	if err != nil {
		return rr, err
	}
	rr.Values, rr.Verdicts, rr.Passed = vals, rep.Verdicts, rep.Passed
	rr.Wall = time.Since(t0)
	return rr, nil
}

// finish aggregates a cell's runs once they are all in.
func (c *Cell) finish() {
	c.Status = CellDone
	for _, r := range c.Runs {
		switch {
		case r.Err != "":
			c.Status = CellError
		case (r.Interrupted || r.Values == nil) && c.Status == CellDone:
			c.Status = CellInterrupted
		}
	}
	if c.Status != CellDone {
		c.Stats, c.Thresholds, c.Passed = nil, nil, false
		return
	}
	vals := make([][]Value, len(c.Runs))
	for i, r := range c.Runs {
		vals[i] = r.Values
	}
	c.Stats = make([]Stat, len(MetricNames))
	for i := range MetricNames {
		c.Stats[i] = aggregate(vals, i)
	}
	c.Thresholds = nil
	c.Passed = true
	for _, r := range c.Runs {
		c.Passed = c.Passed && r.Passed
	}
	if len(c.Runs) == 0 {
		return
	}
	for vi, v := range c.Runs[0].Verdicts {
		t := ThresholdResult{Name: v.Name(), Metric: v.Threshold.Metric, Runs: len(c.Runs)}
		obs := make([][]Value, 0, len(c.Runs))
		for _, r := range c.Runs {
			if vi >= len(r.Verdicts) {
				continue
			}
			rv := r.Verdicts[vi]
			if rv.Passed {
				t.Passes++
			}
			obs = append(obs, []Value{{V: rv.Observed, Never: rv.Never}})
		}
		t.Passed = t.Passes == t.Runs
		t.Observed = aggregate(obs, 0)
		c.Thresholds = append(c.Thresholds, t)
	}
}

// MaxTimeScale is the fastest time compression a sweep picks on its own:
// at 25, with two runs at once, a 4×4 grid of hard-outage (4.5 minutes of
// scenario time per cell) plays in under 2 minutes on a 2-core machine,
// and the breaker's behaviour per cell (opens, half-open probes, time to
// open and to close) agrees with a run at 10.
const MaxTimeScale = 25

// timeScaleSteps are the time scales TimeScaleFor tries, fastest first.
var timeScaleSteps = []float64{MaxTimeScale, 20, 10, 5, 2, 1}

// TimeScaleFor picks the time scale for sweeping sc over g when none is
// given: the scenario's own time_scale when it compresses time, else the
// fastest of 25, 20, 10, 5, 2, 1 that every cell accepts
// (sim.CheckTimeScale) and that keeps every duration threshold at least
// sim.MinScaledDuration of real time (see TimeScaleWarnings), so verdicts
// do not turn on scheduling noise.
func TimeScaleFor(sc *scenarios.Scenario, g Grid) float64 {
	if sc.TimeScale > 1 {
		return sc.TimeScale
	}
	for _, k := range timeScaleSteps {
		if len(TimeScaleWarnings(sc, k)) > 0 {
			continue
		}
		ok := true
		for _, s := range g.Cells() {
			c, err := s.Apply(sc, sc.Seed)
			if err == nil && sim.CheckTimeScale(c, k) != nil {
				ok = false
				break
			}
		}
		if ok {
			return k
		}
	}
	return 1
}

// TimeScaleWarnings lists the thresholds of sc that compare a duration
// with a value shorter than sim.MinScaledDuration once compressed by k,
// e.g. "latency_p99{phase:outage} < 100ms" at k = 25 is 4 ms of real time:
// a garbage collection or a busy core decides such a verdict, not the
// breaker. (The run itself is refused only when a scenario duration gets
// that short; thresholds are judged in scenario time, so they only warn.)
func TimeScaleWarnings(sc *scenarios.Scenario, k float64) []string {
	var out []string
	for _, th := range sc.Thresholds {
		if scenarios.Metrics[th.Metric] != scenarios.UnitDuration {
			continue
		}
		for _, c := range th.Conditions {
			real := time.Duration(c.Value / k * float64(time.Second))
			if c.Value > 0 && real < sim.MinScaledDuration {
				out = append(out, fmt.Sprintf("threshold %s %s is %v of real time at time scale %g, under the %v this machine times reliably; its verdicts may be noise (use a time scale of at most %g for it)",
					th.Key, c.String(), real, k, sim.MinScaledDuration, c.Value/sim.MinScaledDuration.Seconds()))
			}
		}
	}
	return out
}
