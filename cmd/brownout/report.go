package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"brownout/reports"
	"brownout/scenarios"
)

// cmdReport re-renders the plots, summary and verdicts of a recorded run
// without rerunning it, optionally judging other thresholds.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", stderr,
		"usage: brownout report DIR [--thresholds FILE]",
		"",
		"Re-renders dashboard.png, breaker.png, outcomes.png, latency.png, upstream.png,",
		"summary.json, report.md and junit.xml in the run folder DIR from its recording,",
		"and prints the threshold table.",
		"",
		"Exit status: 0 all thresholds pass, 1 some failed or the recording is incomplete",
		"(a killed run, logs that disagree with run.json), 2 invalid input or usage,",
		"130 the recording is of an interrupted run (the report is still written) or",
		"the render was interrupted.",
	)
	thresholdsFile := fs.String("thresholds", "", "judge the thresholds in this YAML `FILE` (a `thresholds:` map) instead of the scenario's own")
	quiet := fs.BoolP("quiet", "q", false, "print only the verdict table, not the paths written")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "brownout report: want exactly one run folder")
		fs.Usage()
		return exitUsage
	}
	dir := fs.Arg(0)
	if err := ctx.Err(); err != nil {
		return exitInterrupted
	}

	var opts reports.Options
	if *thresholdsFile != "" {
		ths, err := readThresholds(*thresholdsFile)
		if err != nil {
			fmt.Fprintf(stderr, "brownout report: %v\n", err)
			return exitUsage
		}
		opts.Thresholds = ths
	}

	rep, err := reports.RenderContext(ctx, dir, opts)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "brownout report: interrupted while rendering; files already replaced are whole, the others are as they were")
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "brownout report: %v\n", err)
		return exitUsage
	}
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "brownout report: %v\n", err)
		return exitUsage
	}
	if !*quiet {
		fmt.Fprintln(stdout)
		for _, f := range rep.Files {
			fmt.Fprintf(stdout, "wrote %s\n", f)
		}
	}
	return exitCodeOf(rep, false)
}

// readThresholds reads a --thresholds file through the scenario reader's
// size and nesting guards. An empty file, or one whose thresholds map is
// empty, is an error rather than a vacuous pass.
func readThresholds(path string) ([]scenarios.Threshold, error) {
	ths, err := scenarios.LoadThresholds(path)
	if err != nil {
		if isEmptyYAML(path) {
			return nil, fmt.Errorf("%s is empty: a thresholds file holds a thresholds: map, e.g. thresholds: {\"latency_p99\": [\"< 500ms\"]}", path)
		}
		return nil, err
	}
	if len(ths) == 0 {
		return nil, fmt.Errorf("%s has no thresholds: its thresholds: map is empty", path)
	}
	return ths, nil
}

// isEmptyYAML reports whether the file holds nothing besides blank lines,
// comments and a byte-order mark. It reads at most 64 KiB, so an endless
// file (/dev/zero) is not empty and is left to the reader's own error.
func isEmptyYAML(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	const limit = 64 << 10
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil || len(data) > limit {
		return false
	}
	for line := range strings.Lines(strings.TrimPrefix(string(data), "\ufeff")) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			return false
		}
	}
	return true
}
