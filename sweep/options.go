package sweep

import (
	"time"

	"brownout/shard"
	"brownout/sim"
)

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
	shard     shard.Shard
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

// WithShard plays only the cells of one shard (see shard.Assign: cells
// in grid order, round-robin, since every cell plays as long): cell k of
// the grid, counting from 0, belongs to shard k mod N + 1. The output
// folder gets the partial report and a manifest, sweep-shard.json, from
// which Merge combines the shards.
func WithShard(s shard.Shard) Option { return func(o *options) { o.shard = s } }

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
