package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"brownout/reports"
	"brownout/sweep"
)

// cmdMerge combines the output folders of the shards of one suite or one
// sweep into the outputs an unsharded run writes.
func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("merge", stderr,
		"usage: brownout merge DIR... --out OUT",
		"",
		"Combines the output folders of 'brownout run ... --shard I/N' (a suite) or",
		"'brownout sweep ... --shard I/N' into OUT, exactly as the unsharded command",
		"writes it: the run folders, and for a suite report.md, junit.xml and suite.json;",
		"for a sweep the heatmaps, sweep.csv, sweep.json, sweep.md and the recommendation.",
		"Refuses shards of different suites, scenarios, settings or brownout versions,",
		"and an incomplete set, naming what is missing.",
		"",
		"Exit status: that of the merged suite or sweep; 2 when the shards do not merge.",
	)
	var out string
	fs.StringVar(&out, "out", "", "output folder (required)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 || out == "" {
		fmt.Fprintln(stderr, "brownout merge: want shard folders and --out")
		fs.Usage()
		return exitUsage
	}
	if err := ctx.Err(); err != nil {
		return exitInterrupted
	}
	dirs := fs.Args()
	if _, err := os.Stat(filepath.Join(dirs[0], reports.SuiteFile)); err == nil {
		return mergeSuites(dirs, out, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dirs[0], sweep.ManifestFile)); err == nil {
		res, err := sweep.Merge(dirs, out)
		if err != nil {
			fmt.Fprintf(stderr, "brownout merge: %v\n", err)
			if errors.Is(err, sweep.ErrInvalid) {
				return exitUsage
			}
			return exitFailed
		}
		printSweep(stdout, res)
		return sweepExit(res, stdout)
	}
	fmt.Fprintf(stderr, "brownout merge: %s holds neither %s nor %s: not the output folder of a shard\n", dirs[0], reports.SuiteFile, sweep.ManifestFile)
	return exitUsage
}

// mergeSuites checks that the folders are every shard of one suite, once,
// copies their run folders into out and writes the suite's outputs there.
func mergeSuites(dirs []string, out string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "brownout merge: %v\n", err)
		return exitUsage
	}
	suites := make([]*reports.Suite, len(dirs))
	for i, d := range dirs {
		s, err := reports.ReadSuite(d)
		if err != nil {
			return fail(err)
		}
		suites[i] = s
	}
	first := suites[0]
	byShard := map[int]string{}
	for i, s := range suites {
		switch {
		case s.Version != first.Version:
			return fail(fmt.Errorf("%s was played by brownout %s, %s by %s", dirs[i], s.Version, dirs[0], first.Version))
		case !slices.Equal(s.Settings, first.Settings):
			return fail(fmt.Errorf("%s was played with flags [%s], %s with [%s]", dirs[i], strings.Join(s.Settings, " "), dirs[0], strings.Join(first.Settings, " ")))
		case s.Shards != first.Shards:
			return fail(fmt.Errorf("%s is shard %d of %d, %s of %d", dirs[i], s.Shard, s.Shards, dirs[0], first.Shards))
		case !sameEntries(s.Entries, first.Entries):
			return fail(fmt.Errorf("%s and %s are shards of different suites (their scenario lists differ)", dirs[i], dirs[0]))
		}
		if prev, dup := byShard[s.Shard]; dup {
			return fail(fmt.Errorf("%s and %s are both shard %d of %d", prev, dirs[i], s.Shard, s.Shards))
		}
		byShard[s.Shard] = dirs[i]
	}
	var missing []string
	for k := 1; k <= first.Shards; k++ {
		if _, ok := byShard[k]; !ok {
			var names []string
			for _, e := range first.Entries {
				if e.Shard == k {
					names = append(names, e.Name)
				}
			}
			missing = append(missing, fmt.Sprintf("missing shard %d of %d (scenarios: %s)", k, first.Shards, strings.Join(names, ", ")))
		}
	}
	if len(missing) > 0 {
		return fail(errors.New(strings.Join(missing, "; ")))
	}
	merged := reports.Suite{Version: first.Version, Settings: first.Settings, Shard: 1, Shards: 1}
	for i, e := range first.Entries {
		src := byShard[e.Shard]
		s := suites[slices.Index(dirs, src)]
		e = s.Entries[i]
		if err := copyRunFolder(filepath.Join(src, e.Name), filepath.Join(out, e.Name)); err != nil {
			return fail(err)
		}
		e.Shard = 1
		merged.Entries = append(merged.Entries, e)
	}
	return finishSuite(&merged, out, stdout, stderr)
}

// sameEntries reports whether two shards list the same scenarios with the
// same shard assignment.
func sameEntries(a, b []reports.SuiteEntry) bool {
	return slices.EqualFunc(a, b, func(x, y reports.SuiteEntry) bool {
		return x.Name == y.Name && x.Source == y.Source && x.Shard == y.Shard
	})
}

// copyRunFolder copies a shard's run folder into the merged folder; a
// scenario that left no folder (invalid, not run) is skipped. It refuses
// to overwrite a folder already there.
func copyRunFolder(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%s exists already: merge into a new folder", dst)
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}
