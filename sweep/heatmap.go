package sweep

import (
	"bytes"
	"fmt"
	"math"

	"brownout/reports"
)

// MetricHeatmap names one heatmap file of a sweep: a metric over fail threshold ×
// reset timeout, its value written in every cell.
type MetricHeatmap struct {
	File   string
	Metric string
	Title  string
	Doc    string // one sentence for sweep.md
}

// PassFailFile is the map of which cells pass every threshold.
const PassFailFile = "heatmap-pass.png"

// Heatmaps are the metric heatmaps a sweep draws, in the order sweep.md
// shows them.
var Heatmaps = []MetricHeatmap{
	{"heatmap-availability.png", Availability, "Availability (1 − unavailable_ratio)",
		"Share of requests that got an answer rather than the assistant's 503; higher is better."},
	{"heatmap-fallback.png", "fallback_ratio", "Fallback ratio (answers from cache or excerpts)",
		"Share of requests answered by a fallback (L1 cache or excerpts) instead of the model; the breaker's shield in action."},
	{"heatmap-upstream-failures.png", "upstream_failures", "Upstream calls while the upstream was failing",
		"Failed upstream calls: load the breaker did not shed from the failing upstream; lower is better."},
	{"heatmap-time-to-close.png", TimeToCloseRecovery, "Time to close after recovery",
		"From the start of the recovery phase until the breaker closes: how long users stay on fallbacks after the upstream is back; lower is better."},
	{"heatmap-latency-p99.png", "latency_p99", "p99 latency (whole run)",
		"99th-percentile latency of every answer; lower is better."},
}

// grid lays the cells out as heatmap rows × columns.
func (r *Result) grid() (rows, cols []string, at func(i, j int) *Cell) {
	rows, cols = r.Grid.RowLabels(), r.Grid.ColLabels()
	n := len(cols)
	return rows, cols, func(i, j int) *Cell {
		k := i*n + j
		if k < len(r.Cells) {
			return &r.Cells[k]
		}
		return nil
	}
}

// heatmapPNG draws one metric heatmap; cells that did not finish show n/a.
func (r *Result) heatmapPNG(h MetricHeatmap) ([]byte, error) {
	rows, cols, at := r.grid()
	vals := make([][]float64, len(rows))
	for i := range rows {
		vals[i] = make([]float64, len(cols))
		for j := range cols {
			vals[i][j] = math.NaN()
			c := at(i, j)
			if c == nil || c.Status != CellDone {
				continue
			}
			st, _ := c.Stat(h.Metric)
			vals[i][j] = st.Mean
			if st.Never > 0 {
				vals[i][j] = math.Inf(1)
			}
		}
	}
	title := fmt.Sprintf("%s — %s", h.Title, r.Scenario)
	if r.Repeat > 1 {
		title += fmt.Sprintf(" (mean of %d seeds)", r.Repeat)
	}
	var b bytes.Buffer
	err := reports.Heatmap(&b, reports.HeatmapSpec{
		Title: title, RowLabel: rowAxis, ColLabel: colAxis, Rows: rows, Cols: cols, Values: vals,
		Format: func(v float64) string { return FormatValue(h.Metric, v) }, HigherIsBetter: HigherIsBetter(h.Metric),
	})
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// passFailPNG draws which cells pass every threshold; a failing cell
// names the first threshold condition it failed.
func (r *Result) passFailPNG() ([]byte, error) {
	rows, cols, at := r.grid()
	cells := make([][]reports.PassFailCell, len(rows))
	for i := range rows {
		cells[i] = make([]reports.PassFailCell, len(cols))
		for j := range cols {
			c := at(i, j)
			if c == nil || c.Status != CellDone {
				continue
			}
			pc := reports.PassFailCell{Runs: len(c.Runs)}
			for _, run := range c.Runs {
				if run.Passed {
					pc.Passed++
				}
			}
			if failed := c.Failed(); len(failed) > 0 {
				pc.Note = failed[0]
				if len(failed) > 1 {
					pc.Note += fmt.Sprintf(" (+%d more)", len(failed)-1)
				}
			}
			cells[i][j] = pc
		}
	}
	var b bytes.Buffer
	title := fmt.Sprintf("Every threshold passes? — %s", r.Scenario)
	if err := reports.PassFailMap(&b, title, rowAxis, colAxis, rows, cols, cells); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Axis names of every heatmap.
const (
	rowAxis = "fail threshold (ft)"
	colAxis = "reset timeout (rt)"
)
