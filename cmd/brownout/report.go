package main

import (
	"context"
	"fmt"
	"io"

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
		"Exit status: 0 all thresholds pass, 1 some failed, 2 invalid input or usage,",
		"130 the recording is of an interrupted run (the report is still written).",
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
		ths, err := scenarios.LoadThresholds(*thresholdsFile)
		if err != nil {
			fmt.Fprintf(stderr, "brownout report: %v\n", err)
			return exitUsage
		}
		if ths == nil {
			ths = []scenarios.Threshold{}
		}
		opts.Thresholds = ths
	}

	rep, err := reports.Render(dir, opts)
	if err != nil {
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
