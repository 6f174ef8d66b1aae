package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"brownout/recording"
	"brownout/reports"
	"brownout/scenarios"
	"brownout/sim"
)

// breakerOverrides are the breaker settings users tune most, as flags that
// take precedence over the scenario file. Only run uses them: a sweep takes
// its breaker settings from the grid.
type breakerOverrides struct {
	failThreshold int
	resetTimeout  time.Duration
	halfOpenMax   int
	policy        string
	callTimeout   time.Duration
	breaker       string
	store         string
	redisURL      string
	replicas      int
	seed          int64
}

func (o *breakerOverrides) register(fs *pflag.FlagSet) {
	fs.IntVar(&o.failThreshold, "fail-threshold", 0, "consecutive failures that trip the breaker (overrides breaker.fail_threshold)")
	fs.DurationVar(&o.resetTimeout, "reset-timeout", 0, "time open before half-open (overrides breaker.reset_timeout)")
	fs.IntVar(&o.halfOpenMax, "half-open-max", 0, "requests let through while half-open (overrides breaker.half_open_max_requests)")
	fs.StringVar(&o.policy, "policy", "", "trip policy: consecutive or ratio (overrides breaker.policy)")
	fs.DurationVar(&o.callTimeout, "call-timeout", 0, "timeout of one upstream call (overrides breaker.call_timeout)")
	fs.StringVar(&o.breaker, "breaker", "on", "on, or off to call the upstream without a breaker (overrides breaker.enabled)")
	fs.IntVar(&o.replicas, "replicas", 0, "assistant instances, each on its own port with its own breaker, load round-robin (overrides assistant.replicas)")
	fs.StringVar(&o.store, "store", "", "where the breaker state lives: local, or redis to share one state between replicas (overrides breaker.store)")
	fs.StringVar(&o.redisURL, "redis", "", "use the Redis at this URL, such as redis://127.0.0.1:6379, instead of the embedded one; implies --store redis (overrides breaker.redis_url)")
	fs.Int64Var(&o.seed, "seed", 0, "random seed for faults and questions (overrides seed)")
}

// apply writes the flags the user gave into sc and re-validates it.
func (o *breakerOverrides) apply(fs *pflag.FlagSet, sc *scenarios.Scenario) error {
	if fs.Changed("fail-threshold") {
		sc.Breaker.FailThreshold = o.failThreshold
	}
	if fs.Changed("reset-timeout") {
		sc.Breaker.ResetTimeout = scenarios.Duration(o.resetTimeout)
	}
	if fs.Changed("half-open-max") {
		sc.Breaker.HalfOpenMaxRequests = o.halfOpenMax
	}
	if fs.Changed("policy") {
		sc.Breaker.Policy = o.policy
	}
	if fs.Changed("call-timeout") {
		sc.Breaker.CallTimeout = scenarios.Duration(o.callTimeout)
	}
	if fs.Changed("breaker") {
		on, ok := parseOnOff(o.breaker)
		if !ok {
			return fmt.Errorf("--breaker=%q: want on or off", o.breaker)
		}
		sc.Breaker.Enabled = on
	}
	if fs.Changed("replicas") {
		sc.Assistant.Replicas = o.replicas
	}
	if fs.Changed("redis") {
		sc.Breaker.RedisURL = o.redisURL
		sc.Breaker.Store = scenarios.StoreRedis
	}
	if fs.Changed("store") {
		sc.Breaker.Store = o.store
	}
	if fs.Changed("seed") {
		sc.Seed = o.seed
	}
	if err := sc.Validate(); err != nil {
		return fmt.Errorf("after flag overrides: %w", err)
	}
	return nil
}

// parseOnOff reads the value of a --breaker flag: on or true, off or false.
func parseOnOff(s string) (on, ok bool) {
	switch s {
	case "on", "true":
		return true, true
	case "off", "false":
		return false, true
	}
	return false, false
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr,
		"usage: brownout run SCENARIO... [flags]",
		"",
		"SCENARIO is a scenario file, a folder of *.yaml files or a built-in name (see",
		"'brownout scenarios'). Several make a suite: each plays into OUT/<name>/ and",
		"OUT holds the suite's report.md and junit.xml (see docs/suites.md).",
		"",
		"Exit status: 0 every threshold passes, 1 some failed, 2 invalid input or usage,",
		"130 interrupted; for a suite, the worst of its scenarios.",
	)
	var (
		out    string
		scale  timeScaleFlag
		quiet  bool
		strict bool
		force  bool
		ov     breakerOverrides
		many   manyFlags
		tf     targetFlags
	)
	many.register(fs)
	fs.StringVar(&out, "out", "", "output folder (default out/<scenario-name>)")
	fs.BoolVar(&force, "force", false, "replace an earlier run in the output folder (its records and report files; other files are kept)")
	fs.Var(&scale, "time-scale", "compress time K times: durations ÷ K, rates × K; auto measures this machine and picks the fastest honest K (default: the scenario's time_scale, else auto)")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	fs.BoolVar(&strict, "strict", false, strictHelp)
	ov.register(fs)
	tf.register(fs, true)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "brownout run: no scenario given: name a scenario file, a folder of them or a built-in (list them with 'brownout scenarios')")
		fmt.Fprintln(stderr)
		fs.Usage()
		return exitUsage
	}
	if many.wanted(fs) {
		return runMany(ctx, fs, many, stdout, stderr)
	}
	sc, err := scenarios.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "brownout run: %v\n", err)
		return exitUsage
	}
	if err := ov.apply(fs, sc); err != nil {
		fmt.Fprintf(stderr, "brownout run: %v\n", err)
		return exitUsage
	}
	if reportWarnings(stderr, "run", currentWarnings(sc), strict) {
		return exitUsage
	}
	k := scale.K
	if !fs.Changed("time-scale") {
		k = sc.TimeScale // 0 when the scenario sets none: auto
	}
	if out == "" {
		out = filepath.Join("out", sc.Name)
	}
	if k != 0 {
		if err := sim.CheckTimeScale(sc, k); err != nil {
			fmt.Fprintf(stderr, "brownout run: %v\n", err)
			return exitUsage
		}
	}
	if err := checkOutDir(out); err != nil {
		fmt.Fprintf(stderr, "brownout run: %v\n", err)
		return exitUsage
	}
	recOpts := []recording.CreateOption{recording.Derived(reports.OutputFiles...)}
	if force {
		recOpts = append(recOpts, recording.Replace())
	}
	// Refuse an occupied folder before calibrating or saying "playing".
	if code, refused := refuseFolder(stderr, recording.Check(out, recOpts...)); refused {
		return code
	}
	if err := checkRedis(ctx, redisURLOf(sc, nil)); err != nil {
		fmt.Fprintf(stderr, "brownout run: %v\n", err)
		return exitUsage
	}
	if k == 0 && tf.url != "" {
		k = 1 // a running service keeps its own timers: no compression to choose
	}
	if k == 0 {
		var code int
		calib, err := tf.calibration()
		if err != nil {
			fmt.Fprintf(stderr, "brownout run: %v\n", err)
			return exitUsage
		}
		if k, code = chooseTimeScale(ctx, "run", sc, sim.AutoConfig{}, stderr, calib...); code != exitOK {
			return code
		}
	}
	opts := []sim.Option{sim.WithOutDir(out), sim.WithTimeScale(k), sim.WithVersion(version()), sim.WithRecordingOptions(recOpts...)}
	targetOpts, err := tf.options(k)
	if err != nil {
		fmt.Fprintf(stderr, "brownout run: %v\n", err)
		return exitUsage
	}
	opts = append(opts, targetOpts...)
	if !quiet {
		opts = append(opts, progressOption(stderr))
	}
	fmt.Fprintf(stderr, "brownout: playing %s (%v of scenario time at time scale %g, about %v) into %s\n",
		sc.Name, sc.TotalDuration(), k, (time.Duration(float64(sc.TotalDuration()) / k)).Round(time.Second), out)
	res, err := sim.Run(ctx, sc, opts...)
	if code, refused := refuseFolder(stderr, err); refused {
		return code
	}
	if err != nil {
		// A run that could not be set up or played has no verdict: exit 1
		// is kept for a failed threshold, so CI can tell the two apart.
		fmt.Fprintf(stderr, "brownout run: %v\n", err)
		return exitUsage
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "brownout run: warning: %s\n", w)
	}
	return renderReport(ctx, res.Dir, res.Interrupted, stdout, stderr)
}

// refuseFolder prints why a run folder was refused (an earlier run in it,
// or another run writing into it) and returns the exit code; refused is
// false for any other error.
func refuseFolder(stderr io.Writer, err error) (code int, refused bool) {
	switch {
	case errors.Is(err, recording.ErrExists):
		fmt.Fprintf(stderr, "brownout run: %v\nbrownout run: use --force to replace it, or --out to choose another folder\n", err)
		return exitUsage, true
	case errors.Is(err, recording.ErrLocked):
		fmt.Fprintf(stderr, "brownout run: %v\n", err)
		return exitUsage, true
	}
	return 0, false
}

// chooseTimeScale measures this machine with sim.AutoTimeScale for sc as
// cfg says, playing against target (a launched service) when given,
// prints the scale chosen and why, and returns it; on failure it returns
// the exit code.
func chooseTimeScale(ctx context.Context, cmd string, sc *scenarios.Scenario, cfg sim.AutoConfig, stderr io.Writer, target ...sim.Option) (float64, int) {
	against := ""
	if len(target) > 0 {
		against = " against the launched service"
	}
	fmt.Fprintf(stderr, "brownout: --time-scale auto: calibrating %s on this machine%s...\n", sc.Name, against)
	choice, err := sim.AutoTimeScale(ctx, sc, cfg, target...)
	if err != nil {
		fmt.Fprintf(stderr, "brownout %s: %v\n", cmd, err)
		if ctx.Err() != nil {
			return 0, exitInterrupted
		}
		return 0, exitFailed
	}
	fmt.Fprintf(stderr, "brownout: %s\n", choice.Why)
	return choice.Scale, exitOK
}

// renderReport writes a run folder's report, prints the threshold table and
// the files written, and turns the verdict into the exit code.
// An interrupt while a finished run's report renders stops it with exit
// 130; an interrupted run's report is rendered whole.
func renderReport(ctx context.Context, dir string, interrupted bool, stdout, stderr io.Writer) int {
	if interrupted {
		ctx = context.Background()
	}
	rep, err := reports.RenderContext(ctx, dir, reports.Options{})
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "brownout: interrupted while rendering the report; run 'brownout report' on the folder to render it")
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintf(stderr, "brownout: report: %v\n", err)
		return exitUsage
	}
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "brownout: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "recorded run and report in %s:\n", dir)
	for _, f := range rep.Files {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	if interrupted || rep.Interrupted {
		fmt.Fprintln(stdout, "interrupted: the report covers what was recorded before the stop")
	}
	return exitCodeOf(rep, interrupted)
}

// exitCodeOf turns a report's verdict into the exit code: interrupted,
// passed, distorted (every threshold held, but the run is distorted), or
// failed.
func exitCodeOf(rep *reports.Report, interrupted bool) int {
	switch {
	case interrupted || rep.Interrupted:
		return exitInterrupted
	case rep.Passed:
		return exitOK
	case len(rep.Incomplete) > 0:
		return exitFailed // a killed or cut-short recording is no pass, distorted or not
	case rep.Distortion != nil && rep.Distortion.Distorted && rep.ThresholdsHeld():
		return exitDistorted
	}
	return exitFailed
}

// progressOption renders sim progress: one live line on a terminal, plain
// periodic lines otherwise (or when CI is set).
func progressOption(w io.Writer) sim.Option {
	live := isLiveTerminal(w)
	every := 5 * time.Second
	if live {
		every = 250 * time.Millisecond
	}
	return sim.WithProgress(every, func(p sim.Progress) {
		line := fmt.Sprintf("%-12s %7s / %-7s %7.1f req/s  breaker %-9s fallback %5.1f%%  503 %5.1f%%  requests %d",
			p.Phase, p.Elapsed.Round(time.Second), p.Total.Round(time.Second), p.Rate, p.Breaker,
			100*p.Fallback, 100*p.Unavailable, p.Requests)
		switch {
		case live && p.Done:
			fmt.Fprintf(w, "\r\033[K%s\n", line)
		case live:
			fmt.Fprintf(w, "\r\033[K%s", line)
		case !p.Done:
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		}
	})
}

// isLiveTerminal reports whether progress written to w may redraw one live
// line: w is a terminal and CI is not set.
func isLiveTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("CI") == ""
}
