package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"brownout/reports"
	"brownout/scenarios"
	"brownout/shard"
)

// manyFlags are the flags of run that play more than one run: --ab and
// --shard (suites need no flag: several scenarios make one).
type manyFlags struct {
	ab    bool
	shard string
}

func (m *manyFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&m.ab, "ab", false, "play the scenario with the breaker off and on (same seed) into OUT/off and OUT/on and compare them in OUT (default OUT out/<name>-ab)")
	fs.StringVar(&m.shard, "shard", "", "play only part `I/N` of a suite (e.g. 2/4); combine the parts with 'brownout merge'")
}

// wanted reports whether the arguments ask for more than one plain run.
func (m manyFlags) wanted(fs *pflag.FlagSet) bool {
	if m.ab || fs.Changed("shard") || fs.NArg() > 1 {
		return true
	}
	fi, err := os.Stat(fs.Arg(0))
	return err == nil && fi.IsDir()
}

// runMany plays an A/B pair or a suite, each run through cmdRun with the
// user's other flags, so every run is played exactly as a single one.
func runMany(ctx context.Context, fs *pflag.FlagSet, m manyFlags, stdout, stderr io.Writer) int {
	if m.ab {
		switch {
		case fs.NArg() != 1 || fs.Changed("shard"):
			fmt.Fprintln(stderr, "brownout run: --ab plays one scenario (not a suite or a shard)")
			return exitUsage
		case fs.Changed("breaker"):
			fmt.Fprintln(stderr, "brownout run: --ab plays the breaker both off and on: leave out --breaker")
			return exitUsage
		}
		return runAB(ctx, fs, stdout, stderr)
	}
	return runSuite(ctx, fs, m, stdout, stderr)
}

// passthrough returns the flags the user set, except those named, as
// arguments for another cmdRun.
func passthrough(fs *pflag.FlagSet, drop ...string) []string {
	var out []string
	fs.Visit(func(f *pflag.Flag) {
		if !slices.Contains(drop, f.Name) {
			out = append(out, "--"+f.Name+"="+f.Value.String())
		}
	})
	return out
}

// runAB plays the scenario with the breaker off (the base) and on, with
// the same seed, then compares them. The exit status is the breaker-on
// run's (the scenario as written), unless a run was invalid or
// interrupted.
func runAB(ctx context.Context, fs *pflag.FlagSet, stdout, stderr io.Writer) int {
	src := fs.Arg(0)
	sc, err := scenarios.Open(src)
	if err != nil {
		fmt.Fprintf(stderr, "brownout run: %v\n", err)
		return exitUsage
	}
	out, _ := fs.GetString("out")
	if out == "" {
		out = filepath.Join("out", sc.Name+"-ab")
	}
	pass := passthrough(fs, "out", "ab")
	offDir, onDir := filepath.Join(out, "off"), filepath.Join(out, "on")
	var onCode int
	for _, side := range []struct{ breaker, dir string }{{"off", offDir}, {"on", onDir}} {
		fmt.Fprintf(stderr, "brownout: A/B: breaker %s\n", side.breaker)
		code := cmdRun(ctx, append([]string{src, "--out", side.dir, "--breaker", side.breaker}, pass...), stdout, stderr)
		if code == exitUsage || code == exitInterrupted {
			return code
		}
		onCode = code
		fmt.Fprintln(stdout)
	}
	if code := writeComparison(offDir, onDir, "breaker off", "breaker on", out, nil, stdout, stderr); code != exitOK {
		return code
	}
	return onCode
}

// suiteItem is one scenario of a suite with what expanding it found.
type suiteItem struct {
	entry reports.SuiteEntry
	cost  float64 // expected real seconds, for balancing shards
}

// expandSuite resolves run's arguments to a list of scenarios: a file is
// one, a folder is its *.yaml and *.yml files in name order, anything else
// a built-in name. A scenario that does not load is kept as invalid, so
// the suite reports it; names are made unique with -2, -3, ….
func expandSuite(args []string, scale float64) ([]suiteItem, error) {
	var srcs []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil || !fi.IsDir() {
			srcs = append(srcs, a)
			continue
		}
		var files []string
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(a, pat))
			if err != nil {
				return nil, err
			}
			files = append(files, m...)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("folder %s holds no *.yaml scenario files", a)
		}
		slices.Sort(files)
		srcs = append(srcs, files...)
	}
	used := map[string]bool{}
	var items []suiteItem
	for _, src := range srcs {
		it := suiteItem{entry: reports.SuiteEntry{Source: src}}
		sc, err := scenarios.Open(src)
		name := ""
		if err != nil {
			it.entry.Status, it.entry.Error = reports.SuiteInvalid, err.Error()
			name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(src), ".yaml"), ".yml")
		} else {
			name = sc.Name
			k := scale
			if k == 0 {
				k = max(sc.TimeScale, 1)
			}
			it.cost = sc.TotalDuration().Seconds() / k
		}
		unique := name
		for n := 2; used[unique]; n++ {
			unique = fmt.Sprintf("%s-%d", name, n)
		}
		used[unique] = true
		it.entry.Name = unique
		items = append(items, it)
	}
	return items, nil
}

// runSuite plays every scenario of the suite (or of its shard) into
// OUT/<name>/ and writes the suite's report.md, junit.xml and suite.json
// into OUT. An invalid scenario is reported and the others still play; an
// interrupt stops the suite, keeping what finished.
func runSuite(ctx context.Context, fs *pflag.FlagSet, m manyFlags, stdout, stderr io.Writer) int {
	sh := shard.All
	if m.shard != "" {
		var err error
		if sh, err = shard.Parse(m.shard); err != nil {
			fmt.Fprintf(stderr, "brownout run: --shard: %v\n", err)
			return exitUsage
		}
	}
	out, _ := fs.GetString("out")
	if out == "" {
		out = filepath.Join("out", "suite")
	}
	items, err := expandSuite(fs.Args(), timeScaleOf(fs))
	if err != nil {
		fmt.Fprintf(stderr, "brownout run: %v\n", err)
		return exitUsage
	}
	costs := make([]float64, len(items))
	for i, it := range items {
		costs[i] = it.cost
	}
	assign := shard.Assign(costs, sh.Of)
	pass := passthrough(fs, "out", "shard")
	suite := reports.Suite{Version: version(), Settings: pass, Shard: sh.Index, Shards: sh.Of}
	mine := 0
	for _, s := range assign {
		if s == sh.Index {
			mine++
		}
	}
	where := ""
	if sh.Of > 1 {
		where = fmt.Sprintf(" (shard %s of a suite of %d)", sh, len(items))
	}
	i := 0
	for k := range items {
		e := items[k].entry
		e.Shard = assign[k]
		switch {
		case e.Shard != sh.Index:
			e.Status = reports.SuiteOtherShard
		case ctx.Err() != nil:
			e.Status = reports.SuiteNotRun
		case e.Status == reports.SuiteInvalid:
			i++
			fmt.Fprintf(stderr, "brownout: scenario %d of %d%s: %s: invalid: %s\n", i, mine, where, e.Name, e.Error)
		default:
			i++
			fmt.Fprintf(stderr, "brownout: scenario %d of %d%s: %s\n", i, mine, where, e.Name)
			playSuiteEntry(ctx, &e, filepath.Join(out, e.Name), pass, stdout, stderr)
			fmt.Fprintln(stdout)
		}
		suite.Entries = append(suite.Entries, e)
	}
	return finishSuite(&suite, out, stdout, stderr)
}

// playSuiteEntry plays one scenario of a suite with cmdRun and records how
// it ended.
func playSuiteEntry(ctx context.Context, e *reports.SuiteEntry, dir string, pass []string, stdout, stderr io.Writer) {
	var errs bytes.Buffer
	start := time.Now()
	code := cmdRun(ctx, append([]string{e.Source, "--out", dir}, pass...), stdout, io.MultiWriter(stderr, &errs))
	fresh := false
	if fi, err := os.Stat(filepath.Join(dir, reports.SummaryFile)); err == nil && !fi.ModTime().Before(start) {
		fresh = true
	}
	switch {
	case code == exitOK:
		e.Status = reports.SuitePass
	case code == exitInterrupted:
		e.Status = reports.SuiteInterrupted
	case code == exitDistorted:
		e.Status = reports.SuiteDistorted
		e.Judge(dir)
	case code == exitFailed && fresh:
		e.Status = reports.SuiteFail
		e.Judge(dir)
	case code == exitUsage && !fresh:
		// Exit 2 before anything was recorded: the scenario does not fit
		// this run (time scale, settings) or could not be set up.
		e.Status, e.Error = reports.SuiteInvalid, lastError(errs.String())
	default:
		e.Status, e.Error = reports.SuiteError, lastError(errs.String())
	}
}

// lastError picks the error cmdRun printed: its "brownout run: …" lines
// that are not warnings (an error and its hint), joined.
func lastError(stderr string) string {
	var msgs []string
	for _, l := range strings.Split(stderr, "\n") {
		if msg, ok := strings.CutPrefix(strings.TrimSpace(l), "brownout run: "); ok && !strings.HasPrefix(msg, "warning:") {
			msgs = append(msgs, msg)
		}
	}
	if len(msgs) == 0 {
		return "the run failed (see its output)"
	}
	return strings.Join(msgs, "; ")
}

// finishSuite writes the suite's outputs, prints one line per scenario and
// returns the worst exit status.
func finishSuite(s *reports.Suite, out string, stdout, stderr io.Writer) int {
	files, err := s.WriteSuite(out)
	if err != nil {
		fmt.Fprintf(stderr, "brownout: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(stdout, "SUITE")
	for _, e := range s.Played() {
		line := fmt.Sprintf("  %-11s %s", e.Status, e.Name)
		switch {
		case e.Error != "":
			line += ": " + e.Error
		case len(e.Failed) > 0:
			line += ": " + strings.Join(e.Failed, "; ")
		}
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "\nsuite report in %s:\n", out)
	for _, f := range files {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	return s.Worst()
}
