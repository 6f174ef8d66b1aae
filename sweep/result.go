package sweep

import (
	"fmt"
	"time"

	"brownout/reports"
	"brownout/scenarios"
)

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
	// CellOtherShard: another shard of a sharded sweep plays the cell
	// (see WithShard); the cell is left out of this shard's figures.
	CellOtherShard CellStatus = "other shard"
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
	Err    string
	Passed bool
	// Distorted: the machine did not keep up with the time scale in this
	// run (recording.Distortion), so it is not a pass whatever its
	// thresholds say.
	Distorted bool
	Values    []Value // one per MetricNames entry
	Verdicts  []reports.Verdict
	Wall      time.Duration // real time the run and its report took
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

// Verdict is a done cell's verdict for tables: "pass", "FAIL n" (n
// thresholds failed), "DISTORTED" when no threshold failed but a run was
// distorted, and "FAIL n, distorted" when both.
func (c *Cell) Verdict() string {
	distorted := false
	for _, r := range c.Runs {
		distorted = distorted || r.Distorted
	}
	n := len(c.Failed())
	switch {
	case c.Passed:
		return "pass"
	case n == 0 && distorted:
		return "DISTORTED"
	case distorted:
		return fmt.Sprintf("FAIL %d, distorted", n)
	}
	return fmt.Sprintf("FAIL %d", n)
}
