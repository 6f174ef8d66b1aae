package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Names of the files a sweep writes into its output folder, besides the
// heatmaps (see Heatmaps).
const (
	CSVFile      = "sweep.csv"
	JSONFile     = "sweep.json"
	MarkdownFile = "sweep.md"
)

// JSONFormat is the version of the sweep.json layout.
const JSONFormat = 1

// Aggregation states how a cell's runs are combined, for the outputs.
const Aggregation = "mean over seeds, with min and max as the spread; a time that never happened in any seed makes the cell's value \"never\"; a cell passes only if every seed passes every threshold"

// Write writes the sweep's outputs into dir: one heatmap PNG per entry of
// Heatmaps and the pass/fail map, sweep.csv, sweep.json and sweep.md. It
// records the paths in r.Files.
func (r *Result) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	r.Files = nil
	write := func(name string, data []byte) error {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		r.Files = append(r.Files, p)
		return nil
	}
	for _, h := range Heatmaps {
		b, err := r.heatmapPNG(h)
		if err != nil {
			return fmt.Errorf("sweep: %s: %w", h.File, err)
		}
		if err := write(h.File, b); err != nil {
			return err
		}
	}
	b, err := r.passFailPNG()
	if err != nil {
		return fmt.Errorf("sweep: %s: %w", PassFailFile, err)
	}
	if err := write(PassFailFile, b); err != nil {
		return err
	}
	if b, err = r.CSV(); err != nil {
		return fmt.Errorf("sweep: %s: %w", CSVFile, err)
	}
	if err := write(CSVFile, b); err != nil {
		return err
	}
	if b, err = r.JSON(); err != nil {
		return fmt.Errorf("sweep: %s: %w", JSONFile, err)
	}
	if err := write(JSONFile, b); err != nil {
		return err
	}
	return write(MarkdownFile, r.Markdown())
}

// thresholdNames are the threshold conditions of the sweep, in the
// scenario's order, taken from the first judged cell.
func (r *Result) thresholdNames() []string {
	for _, c := range r.Cells {
		if c.Status == CellDone {
			names := make([]string, len(c.Thresholds))
			for i, t := range c.Thresholds {
				names[i] = t.Name
			}
			return names
		}
	}
	return nil
}

// csvFloat writes a value in its base unit with full precision; "" for
// nothing measured.
func csvFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// CSV renders sweep.csv: one row per cell in grid order with the cell's
// settings, status and verdict, every metric of MetricNames in base units
// (seconds, fractions, counts, per second; the mean, plus _min and _max
// columns when cells have several seeds; "never" for an event that did not
// happen; empty when nothing was measured), then every threshold
// condition's verdict and observed value.
func (r *Result) CSV() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	spread := r.Repeat > 1
	header := []string{"cell", "status", "passed", "policy", "fail_threshold", "failure_ratio", "min_requests", "reset_timeout_s", "half_open_max", "interval_s", "window_s", "buckets", "seeds"}
	for _, m := range MetricNames {
		header = append(header, m)
		if spread {
			header = append(header, m+"_min", m+"_max")
		}
	}
	ths := r.thresholdNames()
	for _, t := range ths {
		header = append(header, "pass: "+t, "observed: "+t)
	}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, c := range r.Cells {
		seeds := make([]string, len(c.Runs))
		for i, run := range c.Runs {
			seeds[i] = strconv.FormatInt(run.Seed, 10)
		}
		br := c.Breaker
		row := []string{c.Name, string(c.Status), strconv.FormatBool(c.Passed), br.Policy, strconv.Itoa(br.FailThreshold),
			csvFloat(float64(br.FailureRatio)), strconv.Itoa(br.MinRequests), csvFloat(br.ResetTimeout.D().Seconds()),
			strconv.Itoa(br.HalfOpenMaxRequests), csvFloat(br.Interval.D().Seconds()), csvFloat(br.Window.D().Seconds()),
			strconv.Itoa(br.Buckets), strings.Join(seeds, " ")}
		for i := range MetricNames {
			var st Stat
			if c.Stats != nil {
				st = c.Stats[i]
			} else {
				st = Stat{Mean: math.NaN(), Min: math.NaN(), Max: math.NaN()}
			}
			mean := csvFloat(st.Mean)
			if st.Never > 0 {
				mean = "never"
			}
			row = append(row, mean)
			if spread {
				row = append(row, csvFloat(st.Min), csvFloat(st.Max))
			}
		}
		for i := range ths {
			if c.Status != CellDone || i >= len(c.Thresholds) {
				row = append(row, "", "")
				continue
			}
			t := c.Thresholds[i]
			v := "fail"
			if t.Passed {
				v = "pass"
			}
			obs := csvFloat(t.Observed.Mean)
			if t.Observed.Never > 0 {
				obs = "never"
			}
			row = append(row, v, obs)
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// jsonNum is a float that encodes NaN and ±Inf as null.
type jsonNum float64

func (f jsonNum) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

type jsonStat struct {
	Mean  jsonNum `json:"mean"`
	Min   jsonNum `json:"min"`
	Max   jsonNum `json:"max"`
	N     int     `json:"n"`
	Never int     `json:"never,omitempty"`
}

// jsonMetrics encodes a cell's stats as one object in MetricNames order.
type jsonMetrics []Stat

func (m jsonMetrics) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, st := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(MetricNames[i])
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(jsonStat{Mean: jsonNum(st.Mean), Min: jsonNum(st.Min), Max: jsonNum(st.Max), N: st.N, Never: st.Never})
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type jsonSweep struct {
	Format         int                `json:"format"`
	Scenario       string             `json:"scenario"`
	Description    string             `json:"description,omitempty"`
	TimeScale      float64            `json:"time_scale"`
	Repeat         int                `json:"repeat"`
	Seeds          []int64            `json:"seeds"`
	Parallel       int                `json:"parallel"`
	Interrupted    bool               `json:"interrupted"`
	ElapsedS       float64            `json:"elapsed_s"`
	Grid           jsonGrid           `json:"grid"`
	Warnings       []string           `json:"warnings"`
	Aggregation    string             `json:"aggregation"`
	Objective      []string           `json:"objective"`
	Recommendation jsonRecommendation `json:"recommendation"`
	Cells          []jsonCell         `json:"cells"`
}

type jsonGrid struct {
	FailThresholds []int     `json:"fail_thresholds"`
	ResetTimeouts  []string  `json:"reset_timeouts"`
	Policies       []string  `json:"policies,omitempty"`
	FailureRatios  []float64 `json:"failure_ratios,omitempty"`
	HalfOpenMax    []int     `json:"half_open_max,omitempty"`
	Windows        []string  `json:"windows,omitempty"`
	Intervals      []string  `json:"intervals,omitempty"`
}

type jsonRecommendation struct {
	Best              string      `json:"best"`
	RunnerUp          string      `json:"runner_up"`
	Why               string      `json:"why"`
	Ranked            []string    `json:"ranked"`
	Judged            int         `json:"judged"`
	FailingEverywhere []string    `json:"failing_everywhere,omitempty"`
	Closest           string      `json:"closest,omitempty"`
	Sureness          string      `json:"sureness,omitempty"`
	Paired            *jsonPaired `json:"paired,omitempty"`
}

// jsonPaired is the seed-by-seed comparison of the best cell and the
// runner-up on the criterion that decided between them.
type jsonPaired struct {
	Metric    string  `json:"metric"`
	Seeds     int     `json:"seeds"`
	Wins      int     `json:"wins"`
	Losses    int     `json:"losses"`
	Ties      int     `json:"ties"`
	Advantage jsonNum `json:"advantage"`
	Spread    jsonNum `json:"spread"`
}

type jsonBreaker struct {
	Policy              string  `json:"policy"`
	FailThreshold       int     `json:"fail_threshold"`
	FailureRatio        float64 `json:"failure_ratio"`
	MinRequests         int     `json:"min_requests"`
	ResetTimeout        string  `json:"reset_timeout"`
	HalfOpenMaxRequests int     `json:"half_open_max_requests"`
	Interval            string  `json:"interval"`
	Window              string  `json:"window"`
	Buckets             int     `json:"buckets"`
}

type jsonRun struct {
	Seed        int64   `json:"seed"`
	Dir         string  `json:"dir"`
	Interrupted bool    `json:"interrupted"`
	Error       string  `json:"error,omitempty"`
	Passed      bool    `json:"passed"`
	WallS       float64 `json:"wall_s"`
}

type jsonThreshold struct {
	Name     string  `json:"name"`
	Metric   string  `json:"metric"`
	Passed   bool    `json:"passed"`
	Passes   int     `json:"passes"`
	Runs     int     `json:"runs"`
	Observed jsonNum `json:"observed"`
	Never    int     `json:"never,omitempty"`
	Display  string  `json:"display"`
}

type jsonCell struct {
	Name       string          `json:"name"`
	Status     CellStatus      `json:"status"`
	Passed     bool            `json:"passed"`
	Dir        string          `json:"dir"`
	Breaker    jsonBreaker     `json:"breaker"`
	Runs       []jsonRun       `json:"runs"`
	Metrics    jsonMetrics     `json:"metrics"`
	Thresholds []jsonThreshold `json:"thresholds"`
}

// JSON renders sweep.json: the sweep's settings, the recommendation and one
// entry per cell in grid order with every metric (mean, min, max over the
// seeds, in base units; null when nothing was measured) and every
// threshold verdict. Keys come in a fixed order.
func (r *Result) JSON() ([]byte, error) {
	js := jsonSweep{
		Format: JSONFormat, Scenario: r.Scenario, Description: r.Description, TimeScale: r.TimeScale,
		Repeat: r.Repeat, Seeds: r.Seeds, Parallel: r.Parallel, Interrupted: r.Interrupted,
		ElapsedS:    math.Round(r.Elapsed.Seconds()*1000) / 1000,
		Aggregation: Aggregation, Warnings: r.Warnings,
		Grid: jsonGrid{FailThresholds: r.Grid.FailThresholds, Policies: r.Grid.Policies,
			FailureRatios: r.Grid.FailureRatios, HalfOpenMax: r.Grid.HalfOpenMax},
		Recommendation: jsonRecommendation{
			Best: r.Recommendation.Best, RunnerUp: r.Recommendation.RunnerUp, Why: r.Recommendation.Why,
			Ranked: r.Recommendation.Ranked, Judged: r.Recommendation.Judged,
			FailingEverywhere: r.Recommendation.FailingEverywhere, Closest: r.Recommendation.Closest,
			Sureness: r.Recommendation.Sureness,
		},
		Cells: []jsonCell{},
	}
	if js.Warnings == nil {
		js.Warnings = []string{}
	}
	if js.Seeds == nil {
		js.Seeds = []int64{}
	}
	if p := r.Recommendation.Paired; p != nil {
		js.Recommendation.Paired = &jsonPaired{Metric: p.Metric, Seeds: p.Seeds, Wins: p.Wins, Losses: p.Losses, Ties: p.Ties,
			Advantage: jsonNum(p.Advantage), Spread: jsonNum(p.Spread)}
	}
	if js.Recommendation.Ranked == nil {
		js.Recommendation.Ranked = []string{}
	}
	for _, w := range r.Grid.Windows {
		js.Grid.Windows = append(js.Grid.Windows, w.String())
	}
	for _, iv := range r.Grid.Intervals {
		js.Grid.Intervals = append(js.Grid.Intervals, iv.String())
	}
	for _, rt := range r.Grid.ResetTimeouts {
		js.Grid.ResetTimeouts = append(js.Grid.ResetTimeouts, rt.String())
	}
	for _, o := range r.Objective {
		js.Objective = append(js.Objective, o.String())
	}
	for _, c := range r.Cells {
		jc := jsonCell{
			Name: c.Name, Status: c.Status, Passed: c.Passed, Dir: c.Dir,
			Breaker: jsonBreaker{Policy: c.Breaker.Policy, FailThreshold: c.Breaker.FailThreshold,
				FailureRatio: float64(c.Breaker.FailureRatio), MinRequests: c.Breaker.MinRequests,
				ResetTimeout: c.Breaker.ResetTimeout.D().String(), HalfOpenMaxRequests: c.Breaker.HalfOpenMaxRequests,
				Interval: c.Breaker.Interval.D().String(), Window: c.Breaker.Window.D().String(), Buckets: c.Breaker.Buckets},
			Runs: []jsonRun{}, Metrics: jsonMetrics(c.Stats), Thresholds: []jsonThreshold{},
		}
		for _, run := range c.Runs {
			jc.Runs = append(jc.Runs, jsonRun{Seed: run.Seed, Dir: run.Dir, Interrupted: run.Interrupted, Error: run.Err, Passed: run.Passed,
				WallS: math.Round(run.Wall.Seconds()*1000) / 1000})
		}
		for _, t := range c.Thresholds {
			jc.Thresholds = append(jc.Thresholds, jsonThreshold{Name: t.Name, Metric: t.Metric, Passed: t.Passed,
				Passes: t.Passes, Runs: t.Runs, Observed: jsonNum(t.Observed.Mean), Never: t.Observed.Never, Display: t.Display()})
		}
		js.Cells = append(js.Cells, jc)
	}
	b, err := json.MarshalIndent(js, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Markdown renders sweep.md: what was swept, the recommendation, the
// pass/fail map and heatmaps, a table of the cells, and which thresholds
// failed where. Paths are relative to the sweep folder.
func (r *Result) Markdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Breaker sweep: %s\n\n", r.Scenario)
	if r.Description != "" {
		p("%s\n\n", r.Description)
	}
	done := 0
	for _, c := range r.Cells {
		if c.Status == CellDone {
			done++
		}
	}
	seeds := make([]string, len(r.Seeds))
	for i, s := range r.Seeds {
		seeds[i] = strconv.FormatInt(s, 10)
	}
	p("Grid: %s — %d cells × %d seed(s) (%s), time scale %g, %d run(s) in parallel, %s of real time.\n\n",
		r.gridDescription(), len(r.Cells), r.Repeat, strings.Join(seeds, ", "), r.TimeScale, r.Parallel, r.Elapsed.Round(time.Second))
	if r.Interrupted {
		p("> **Interrupted:** %d of %d cells finished; this partial report covers only those.\n\n", done, len(r.Cells))
	}

	for _, w := range r.Warnings {
		p("> **Warning:** %s.\n\n", w)
	}

	p("## Recommendation\n\n")
	rec := r.Recommendation
	p("Objective: %s.\n\n", objectiveText(r.Objective))
	switch {
	case rec.Best != "" && rec.RunnerUp != "":
		p("**Recommended: %s** (%s); runner-up: %s (%s).\n\n", rec.Best, r.settingsText(rec.Best), rec.RunnerUp, r.settingsText(rec.RunnerUp))
	case rec.Best != "":
		p("**Recommended: %s** (%s); no runner-up passes.\n\n", rec.Best, r.settingsText(rec.Best))
	default:
		p("**No cell passes every threshold.**\n\n")
	}
	p("%s\n\n", rec.Why)
	if rec.Sureness != "" {
		p("%s\n\n", rec.Sureness)
	}
	if len(rec.Ranked) > 2 {
		p("All passing cells, best first: %s.\n\n", strings.Join(rec.Ranked, ", "))
	}

	p("## Pass/fail\n\n![pass/fail map](%s)\n\n", PassFailFile)
	p("## Heatmaps\n\nRows: fail threshold; columns: reset timeout. ")
	if r.Repeat > 1 {
		p("Each cell shows the mean over %d seeds. ", r.Repeat)
	}
	p("Colours run from dark purple (worst) to yellow (best); grey cells have no result.\n\n")
	for _, h := range Heatmaps {
		p("### %s\n\n%s\n\n![%s](%s)\n\n", h.Title, h.Doc, h.Title, h.File)
	}

	p("## Cells\n\n")
	cols := []string{Availability, "fallback_ratio", "upstream_failures", FailuresBeforeTrip, HalfOpenProbes, TimeToCloseRecovery, "latency_p99"}
	p("| cell | verdict |")
	for _, m := range cols {
		p(" %s |", m)
	}
	p(" report |\n|---|---|")
	for range cols {
		p("---:|")
	}
	p("---|\n")
	for _, c := range r.Cells {
		verdict := string(c.Status)
		if c.Status == CellDone {
			verdict = c.Verdict()
		}
		p("| %s | %s |", c.Name, verdict)
		for _, m := range cols {
			if c.Status != CellDone {
				p(" |")
				continue
			}
			st, _ := c.Stat(m)
			p(" %s |", statCell(m, st, r.Repeat > 1))
		}
		// With repeats, the cell's folder holds one run folder per seed:
		// link the first seed's report.
		runDir := c.Dir
		if r.Repeat > 1 && len(c.Runs) > 0 {
			runDir = c.Runs[0].Dir
		}
		rel, err := filepath.Rel(r.Dir, runDir)
		if err != nil || r.Dir == "" {
			rel = runDir
		}
		p(" [report](%s) |\n", filepath.ToSlash(filepath.Join(rel, "report.md")))
	}
	p("\n")

	var errs []string
	for _, c := range r.Cells {
		for _, run := range c.Runs {
			if run.Err != "" {
				errs = append(errs, run.Err)
			}
		}
	}
	if len(errs) > 0 {
		p("## Errors\n\nThese runs failed; their cells are left out of the figures.\n\n")
		for _, e := range errs {
			p("- %s\n", e)
		}
		p("\n")
	}

	ths := r.thresholdNames()
	if len(ths) > 0 {
		p("## Thresholds\n\n| threshold | cells passing |\n|---|---:|\n")
		for i, name := range ths {
			pass := 0
			for _, c := range r.Cells {
				if c.Status == CellDone && i < len(c.Thresholds) && c.Thresholds[i].Passed {
					pass++
				}
			}
			p("| `%s` | %d of %d |\n", name, pass, done)
		}
		p("\n")
	}
	p("## Definitions\n\n")
	p("- **availability**: 1 − unavailable_ratio over the whole run (answers other than the assistant's 503).\n")
	p("- **upstream_failures**: upstream calls that failed (fault injected or non-2xx): the load the breaker did not shed from the failing upstream.\n")
	p("- **failures_before_trip**: failed upstream calls that arrived before the breaker first opened.\n")
	p("- **half_open_probes**: transitions into half-open over the run.\n")
	p("- **time_to_close_recovery**: from the start of the recovery phase (the first phase after the last phase with faults) to the first transition into closed in it; 0 if already closed then, \"never\" if it stays open through it.\n")
	p("- **Aggregation**: %s.\n", Aggregation)
	p("\nEvery cell's run folder can be re-rendered with `brownout report %s`.\n", filepath.ToSlash(filepath.Join(r.Dir, CellsDir, "<cell>")))
	return b.Bytes()
}

// statCell renders a cell's value for a table, with the spread when there
// are several seeds.
func statCell(metric string, st Stat, spread bool) string {
	s := formatStat(metric, st)
	if spread && st.Never == 0 && st.N > 1 && st.Min != st.Max {
		s += fmt.Sprintf(" (%s–%s)", FormatValue(metric, st.Min), FormatValue(metric, st.Max))
	}
	return s
}

func objectiveText(obj []Objective) string {
	parts := make([]string, len(obj))
	for i, o := range obj {
		parts[i] = o.String()
	}
	return strings.Join(parts, ", then ")
}

// settingsText describes a cell's breaker settings in words.
func (r *Result) settingsText(name string) string {
	for _, c := range r.Cells {
		if c.Name != name {
			continue
		}
		b := c.Breaker
		s := fmt.Sprintf("fail_threshold %d, reset_timeout %s", b.FailThreshold, shortDuration(b.ResetTimeout.D()))
		if len(r.Grid.Policies) > 0 {
			s += ", policy " + b.Policy
		}
		if len(r.Grid.FailureRatios) > 0 {
			s += fmt.Sprintf(", failure_ratio %g%%", float64(b.FailureRatio)*100)
		}
		if len(r.Grid.HalfOpenMax) > 0 {
			s += fmt.Sprintf(", half_open_max_requests %d", b.HalfOpenMaxRequests)
		}
		if len(r.Grid.Windows) > 0 {
			s += ", window " + shortDuration(b.Window.D())
		}
		if len(r.Grid.Intervals) > 0 {
			s += ", interval " + shortDuration(b.Interval.D())
		}
		if len(r.Grid.Replicas) > 0 {
			s += fmt.Sprintf(", replicas %d", c.Settings.Replicas)
		}
		if len(r.Grid.Stores) > 0 {
			s += ", store " + b.Store
		}
		return s
	}
	return name
}

func (r *Result) gridDescription() string {
	g := r.Grid
	join := func(n int, f func(int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ", ")
	}
	parts := []string{
		"fail_threshold {" + join(len(g.FailThresholds), func(i int) string { return strconv.Itoa(g.FailThresholds[i]) }) + "}",
		"reset_timeout {" + join(len(g.ResetTimeouts), func(i int) string { return shortDuration(g.ResetTimeouts[i]) }) + "}",
	}
	if len(g.Policies) > 0 {
		parts = append(parts, "policy {"+strings.Join(g.Policies, ", ")+"}")
	}
	if len(g.FailureRatios) > 0 {
		parts = append(parts, "failure_ratio {"+join(len(g.FailureRatios), func(i int) string { return strconv.FormatFloat(g.FailureRatios[i]*100, 'f', -1, 64) + "%" })+"}")
	}
	if len(g.HalfOpenMax) > 0 {
		parts = append(parts, "half_open_max {"+join(len(g.HalfOpenMax), func(i int) string { return strconv.Itoa(g.HalfOpenMax[i]) })+"}")
	}
	if len(g.Windows) > 0 {
		parts = append(parts, "window {"+join(len(g.Windows), func(i int) string { return shortDuration(g.Windows[i]) })+"}")
	}
	if len(g.Intervals) > 0 {
		parts = append(parts, "interval {"+join(len(g.Intervals), func(i int) string { return shortDuration(g.Intervals[i]) })+"}")
	}
	if len(g.Replicas) > 0 {
		parts = append(parts, "replicas {"+join(len(g.Replicas), func(i int) string { return strconv.Itoa(g.Replicas[i]) })+"}")
	}
	if len(g.Stores) > 0 {
		parts = append(parts, "store {"+strings.Join(g.Stores, ", ")+"}")
	}
	return strings.Join(parts, " × ")
}
