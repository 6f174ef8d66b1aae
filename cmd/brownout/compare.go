package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"brownout/reports"
)

// cmdCompare compares two recorded runs: an overlaid dashboard and every
// metric overall and per phase, with optional regression bounds for CI.
func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", stderr,
		"usage: brownout compare BASE NEW [flags]",
		"",
		"Compares two run folders (recorded by 'brownout run'): writes compare.png (the",
		"dashboard's four panels with both runs on one scenario-time axis, BASE solid and",
		"NEW dashed), compare.md and compare.json (every metric overall and per phase, both",
		"values and the change: percentage points for ratios, relative for the rest).",
		"",
		"Exit status: 0 no --fail-on bound exceeded, 1 some bound exceeded (or could not be",
		"judged), 2 invalid input or usage.",
	)
	var (
		out, failOn         string
		baseLabel, newLabel string
	)
	fs.StringVar(&out, "out", "", "output folder (default NEW/compare)")
	fs.StringVar(&failOn, "fail-on", "", "regression bounds, comma-separated METRIC[{phase:NAME}]:±AMOUNT with AMOUNT N% (relative), Npp (ratios) or N in the metric's unit, e.g. 'latency_p99:+10%,fallback_ratio:+2pp,upstream_failures:+0'")
	fs.StringVar(&baseLabel, "base-label", "", "name of the BASE run in the outputs (default its folder name)")
	fs.StringVar(&newLabel, "new-label", "", "name of the NEW run in the outputs (default its folder name)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "brownout compare: want two run folders, BASE and NEW")
		fs.Usage()
		return exitUsage
	}
	if err := ctx.Err(); err != nil {
		return exitInterrupted
	}
	var bounds []reports.Bound
	if fs.Changed("fail-on") {
		var err error
		if bounds, err = reports.ParseBounds(failOn); err != nil {
			fmt.Fprintf(stderr, "brownout compare: --fail-on: %v\n", err)
			return exitUsage
		}
	}
	if out == "" {
		out = filepath.Join(fs.Arg(1), "compare")
	}
	return writeComparison(fs.Arg(0), fs.Arg(1), baseLabel, newLabel, out, bounds, stdout, stderr)
}

// writeComparison compares two run folders into out, prints the headline
// changes and the bounds, and returns the exit code.
func writeComparison(baseDir, newDir, baseLabel, newLabel, out string, bounds []reports.Bound, stdout, stderr io.Writer) int {
	c, err := reports.Compare(baseDir, newDir, baseLabel, newLabel)
	if err != nil {
		fmt.Fprintf(stderr, "brownout compare: %v\n", err)
		return exitUsage
	}
	c.Judge(bounds)
	files, err := c.WriteComparison(out)
	if err != nil {
		fmt.Fprintf(stderr, "brownout compare: %v\n", err)
		return exitFailed
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "METRIC\t%s\t%s\tCHANGE\n", c.Base.Label, c.New.Label)
	for _, d := range c.Overall {
		if !headlineMetric(d.Metric) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Metric, d.Base.Display(), d.New.Display(), d.ChangeText())
	}
	tw.Flush()
	if len(c.Bounds) > 0 {
		fmt.Fprintln(stdout)
		for _, b := range c.Bounds {
			verdict := "holds"
			if b.Failed {
				verdict = "EXCEEDED"
			}
			fmt.Fprintf(stdout, "%-8s %s: %s\n", verdict, b.Bound.Raw, b.Message)
		}
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "comparison in %s:\n", out)
	for _, f := range files {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	if !c.Passed() {
		return exitFailed
	}
	return exitOK
}

// headlineMetric picks the metrics the terminal table shows; the files
// have them all.
func headlineMetric(m string) bool {
	switch m {
	case "success_ratio", "fallback_ratio", "unavailable_ratio", "error_ratio", "latency_p50", "latency_p99",
		"upstream_calls", "upstream_failures", "breaker_opens", "open_time_ratio":
		return true
	}
	return false
}
