package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"brownout/scenarios"
	"brownout/shard"
	"brownout/sim"
	"brownout/sweep"
)

// cmdSweep plays a scenario over a grid of breaker settings and recommends
// one: exit 0 when some cell passes every threshold, 1 when none does, 2
// for bad input, 130 when interrupted (the partial report is written).
func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sweep", stderr,
		"usage: brownout sweep SCENARIO [flags]",
		"",
		"Plays SCENARIO (a file or built-in name) once per cell of a grid of breaker settings,",
		"each cell a full run recorded into OUT/cells/<name>/ (re-render with 'brownout report'),",
		"and writes heatmaps, sweep.csv, sweep.json and sweep.md with a recommendation.",
		"",
		"With --shard I/N it plays only cell k mod N + 1 of the grid (cells in grid order, k from 0)",
		"and writes that part's report and sweep-shard.json; 'brownout merge' combines the N",
		"folders into the outputs of the whole sweep (see docs/suites.md).",
		"",
		"Exit status: 0 some cell passes every threshold, 1 none does, 2 invalid input or usage,",
		"130 interrupted (finished cells are kept and a partial report is written). A shard exits",
		"0 once its cells played: the verdict is the merge's.",
	)
	var (
		g           sweep.Grid
		ratios      []string
		repeat      int
		parallel    int
		scale       timeScaleFlag
		out         string
		objective   string
		seed        int64
		quiet       bool
		yes         bool
		listMetrics bool
		tf          targetFlags
	)
	fs.IntSliceVar(&g.FailThresholds, "fail-threshold", []int{3, 5, 10, 20}, "fail thresholds to sweep (rows of the heatmaps)")
	fs.DurationSliceVar(&g.ResetTimeouts, "reset-timeout", []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, 60 * time.Second}, "reset timeouts to sweep (columns of the heatmaps)")
	fs.StringSliceVar(&g.Policies, "policy", nil, "trip policies to sweep: consecutive, ratio (default: the scenario's)")
	fs.StringSliceVar(&ratios, "failure-ratio", nil, "failure ratios to sweep for the ratio policy, e.g. 25%,50% (default: the scenario's)")
	fs.IntSliceVar(&g.HalfOpenMax, "half-open-max", nil, "half-open request limits to sweep (default: the scenario's)")
	fs.DurationSliceVar(&g.Windows, "window", nil, "rolling windows to sweep, 0 = none, e.g. 0,30s,60s (default: the scenario's; exclusive with --interval)")
	fs.DurationSliceVar(&g.Intervals, "interval", nil, "fixed count-reset intervals to sweep, 0 = never, e.g. 0,60s (default: the scenario's)")
	fs.IntSliceVar(&g.Replicas, "replicas", nil, "assistant replica counts to sweep, e.g. 1,4,8 (default: the scenario's)")
	fs.StringSliceVar(&g.Stores, "store", nil, "breaker stores to sweep: local, redis (default: the scenario's)")
	tf.register(fs, false)
	fs.IntVar(&repeat, "repeat", 1, "runs per cell with seeds seed, seed+1, …; figures are the mean with min–max spread")
	fs.IntVar(&parallel, "parallel", runtime.NumCPU(), "runs played at once")
	fs.Var(&scale, "time-scale", "compress time K times; auto measures this machine with --parallel runs at once and picks the fastest honest K that every cell allows (default: the scenario's time_scale, else auto)")
	fs.StringVar(&out, "out", "", "output folder (default out/<scenario-name>-sweep)")
	fs.StringVar(&objective, "objective", "", "metrics that rank passing cells, most important first, comma-separated (default time_to_close,upstream_failures); direction from the metric")
	fs.Int64Var(&seed, "seed", 0, "first random seed (overrides the scenario's seed)")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	shardArg := fs.String("shard", "", "play only part `I/N` of the grid's cells (e.g. 2/4); combine the parts with 'brownout merge'")
	fs.BoolVar(&yes, "yes", false, fmt.Sprintf("start a sweep estimated to take over %v without asking (on a terminal such a sweep is refused without it)", longSweep))
	fs.BoolVar(&listMetrics, "list-metrics", false, "list the metrics --objective accepts and exit")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if listMetrics {
		for _, m := range sweep.MetricNames {
			dir := "lower is better"
			if sweep.HigherIsBetter(m) {
				dir = "higher is better"
			}
			fmt.Fprintf(stdout, "%-24s %s\n", m, dir)
		}
		return exitOK
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "brownout sweep: %v\n", err)
		return code
	}
	if parallel < 1 {
		return fail(exitUsage, fmt.Errorf("--parallel %d: want at least 1", parallel))
	}
	if repeat < 1 {
		return fail(exitUsage, fmt.Errorf("--repeat %d: want at least 1", repeat))
	}
	for _, r := range ratios {
		v, err := scenarios.ParseRatio(r)
		if err != nil {
			return fail(exitUsage, fmt.Errorf("--failure-ratio: %w", err))
		}
		g.FailureRatios = append(g.FailureRatios, float64(v))
	}
	if err := g.Validate(); err != nil {
		return fail(exitUsage, err)
	}
	obj := sweep.DefaultObjective
	if objective != "" {
		var err error
		if obj, err = sweep.ParseObjective(objective); err != nil {
			return fail(exitUsage, fmt.Errorf("--objective: %w", err))
		}
	}
	sc, err := scenarios.Open(fs.Arg(0))
	if err != nil {
		return fail(exitUsage, err)
	}
	if fs.Changed("seed") {
		sc.Seed = seed
	}
	for _, w := range sweepWarnings(sc, g.Cells()) {
		fmt.Fprintf(stderr, "brownout sweep: %s\n", w)
	}
	if err := checkRedis(ctx, redisURLOf(sc, g.Stores)); err != nil {
		return fail(exitUsage, err)
	}
	k := scale.K
	if !fs.Changed("time-scale") {
		k = sc.TimeScale // 0 when the scenario sets none: auto
	}
	if k == 0 {
		var code int
		calib, err := tf.calibration()
		if err != nil {
			return fail(exitUsage, err)
		}
		if k, code = chooseTimeScale(ctx, "sweep", sc, sim.AutoConfig{Parallel: parallel, Accept: sweep.CellsAccept(sc, g)}, stderr, calib...); code != exitOK {
			return code
		}
	}
	if w := ratioWithoutRatioPolicy(g, sc); w != "" {
		fmt.Fprintf(stderr, "brownout: warning: %s\n", w)
	}
	if out == "" {
		out = filepath.Join("out", sc.Name+"-sweep")
	}
	sh := shard.All
	if *shardArg != "" {
		var err error
		if sh, err = shard.Parse(*shardArg); err != nil {
			return fail(exitUsage, fmt.Errorf("--shard: %w", err))
		}
	}
	cells := len(sh.Select(make([]float64, len(g.Cells()))))
	runs := cells * max(repeat, 1)
	perRun := time.Duration(float64(sc.TotalDuration()) / k)
	waves := (runs + max(parallel, 1) - 1) / max(parallel, 1)
	fmt.Fprintf(stderr, "brownout: sweeping %s over %d cells × %d seed(s) = %d runs of %v scenario time at time scale %g, %d at once (about %v) into %s\n",
		sc.Name, cells, max(repeat, 1), runs, sc.TotalDuration(), k, parallel, (perRun * time.Duration(waves)).Round(time.Second), out)

	for _, w := range sweep.TimeScaleWarnings(sc, k) {
		fmt.Fprintf(stderr, "brownout: warning: %s\n", w)
	}
	estimate := (perRun * time.Duration(waves)).Round(time.Second)
	if err := confirmLongSweep(estimate, yes, isLiveTerminal(stderr)); err != nil {
		return fail(exitUsage, err)
	}
	if err := checkOutDir(out); err != nil {
		return fail(exitUsage, err)
	}
	opts := []sweep.Option{
		sweep.WithOutDir(out), sweep.WithParallel(parallel), sweep.WithRepeat(repeat),
		sweep.WithTimeScale(k), sweep.WithObjective(obj), sweep.WithVersion(version()),
		sweep.WithShard(sh),
	}
	// Each cell launches its own instance of a --target-cmd service, with
	// the cell's settings, on its own ports.
	targetOpts, err := tf.options(k)
	if err != nil {
		return fail(exitUsage, err)
	}
	if len(targetOpts) > 0 {
		opts = append(opts, sweep.WithRunOptions(targetOpts...))
	}
	if !quiet {
		opts = append(opts, sweep.WithProgress(sweepProgress(stderr)))
	}
	res, err := sweep.Run(ctx, sc, g, opts...)
	if err != nil {
		if errors.Is(err, sweep.ErrInvalid) {
			return fail(exitUsage, err)
		}
		return fail(exitFailed, err)
	}
	printSweep(stdout, res)
	if sh.Of > 1 && !res.Interrupted {
		fmt.Fprintf(stdout, "shard %s played: combine all %d shard folders with 'brownout merge DIR... --out OUT'\n", sh, sh.Of)
		return exitOK
	}
	return sweepExit(res, stdout)
}

// sweepExit turns a whole sweep's result into the exit status.
func sweepExit(res *sweep.Result, stdout io.Writer) int {
	switch {
	case res.Interrupted:
		fmt.Fprintln(stdout, "interrupted: the sweep report covers the cells that finished")
		return exitInterrupted
	case res.Recommendation.Best == "":
		return exitFailed
	}
	return exitOK
}

// longSweep is the estimated duration above which a sweep started from a
// terminal needs --yes: a grid typed by hand (50 × 50 cells) can commit the
// machine for a working day, and the estimate alone scrolls past.
const longSweep = time.Hour

// confirmLongSweep refuses a sweep estimated to take over longSweep when
// it was started from a terminal without --yes. Elsewhere (CI, scripts,
// CI=1) it lets it start: a job's own timeout bounds it, and a scheduled
// job that cannot answer a question should not break; the estimate is
// still printed.
func confirmLongSweep(estimate time.Duration, yes, terminal bool) error {
	if estimate <= longSweep || yes || !terminal {
		return nil
	}
	return fmt.Errorf("this sweep would take about %v (over %v); rerun with --yes to start it, or make it shorter (fewer cells, --repeat, a higher --time-scale or --parallel)", estimate, longSweep)
}

// ratioWithoutRatioPolicy warns when --failure-ratio values are given but
// no cell uses the ratio policy, so they cannot change any result.
func ratioWithoutRatioPolicy(g sweep.Grid, sc *scenarios.Scenario) string {
	if len(g.FailureRatios) == 0 {
		return ""
	}
	policies := g.Policies
	if len(policies) == 0 {
		policies = []string{sc.Breaker.Policy}
	}
	for _, p := range policies {
		if p == scenarios.PolicyRatio {
			return ""
		}
	}
	return fmt.Sprintf("--failure-ratio only applies to the ratio policy, and every cell uses %s; add --policy ratio (or --policy consecutive,ratio) to sweep it", strings.Join(policies, ", "))
}

// sweepProgress prints one line per finished run: a live line on a
// terminal, plain lines otherwise (or when CI is set).
func sweepProgress(w io.Writer) func(sweep.Progress) {
	live := isLiveTerminal(w)
	var mu sync.Mutex
	return func(p sweep.Progress) {
		mu.Lock()
		defer mu.Unlock()
		verdict := "pass"
		switch {
		case p.Err != "":
			verdict = "error"
		case p.Interrupted:
			verdict = "interrupted"
		case !p.Passed:
			verdict = "FAIL"
		}
		left := "done"
		if p.Done < p.Total {
			left = "about " + p.Remaining.Round(time.Second).String() + " left"
		}
		line := fmt.Sprintf("[%*d/%d] %-22s seed %-4d %-11s elapsed %v, %s",
			len(fmt.Sprint(p.Total)), p.Done, p.Total, p.Cell, p.Seed, verdict, p.Elapsed.Round(time.Second), left)
		if live {
			end := ""
			if p.Err != "" {
				line += "\n  " + p.Err + "\n"
			} else if p.Done == p.Total {
				end = "\n"
			}
			fmt.Fprintf(w, "\r\033[K%s%s", line, end)
			return
		}
		fmt.Fprintln(w, line)
		if p.Err != "" {
			fmt.Fprintf(w, "  %s\n", p.Err)
		}
	}
}

// printSweep writes the cells table, the recommendation and the files.
func printSweep(w io.Writer, res *sweep.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	cols := []string{sweep.Availability, "fallback_ratio", "upstream_failures", sweep.TimeToCloseRecovery, "latency_p99"}
	fmt.Fprint(tw, "CELL\tVERDICT\t")
	for _, m := range cols {
		fmt.Fprintf(tw, "%s\t", strings.ToUpper(m))
	}
	fmt.Fprintln(tw)
	for _, c := range res.Cells {
		verdict := string(c.Status)
		if c.Status == sweep.CellDone {
			verdict = c.Verdict()
		}
		fmt.Fprintf(tw, "%s\t%s\t", c.Name, verdict)
		for _, m := range cols {
			st, ok := c.Stat(m)
			switch {
			case !ok:
				fmt.Fprint(tw, "\t")
			case st.Never > 0:
				fmt.Fprint(tw, "never\t")
			default:
				fmt.Fprintf(tw, "%s\t", sweep.FormatValue(m, st.Mean))
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(w)
	rec := res.Recommendation
	switch {
	case rec.Best != "" && rec.RunnerUp != "":
		fmt.Fprintf(w, "recommended: %s (runner-up %s)\n", rec.Best, rec.RunnerUp)
	case rec.Best != "":
		fmt.Fprintf(w, "recommended: %s\n", rec.Best)
	default:
		fmt.Fprintln(w, "no cell passes every threshold")
	}
	fmt.Fprintln(w, rec.Why)
	if rec.Sureness != "" {
		fmt.Fprintln(w, rec.Sureness)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "sweep report in %s (cells in %s):\n", res.Dir, filepath.Join(res.Dir, sweep.CellsDir))
	for _, f := range res.Files {
		fmt.Fprintf(w, "  %s\n", f)
	}
}
