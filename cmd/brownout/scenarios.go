package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"brownout/scenarios"
)

// cmdScenarios lists the built-in scenarios with their length and a
// one-line description, or prints one built-in's file as a starting point
// for a user's own.
func cmdScenarios(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("scenarios", stderr,
		"usage: brownout scenarios [--show NAME]",
		"",
		"Lists the built-in scenarios; `brownout run NAME` plays one.",
	)
	show := fs.String("show", "", "print the YAML file of the built-in scenario NAME, comments included")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "brownout scenarios: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *show != "" {
		if _, err := scenarios.Builtin(*show); err != nil {
			fmt.Fprintf(stderr, "brownout scenarios: %v\n", err)
			return exitUsage
		}
		src, err := scenarios.BuiltinSource(*show)
		if err != nil {
			fmt.Fprintf(stderr, "brownout scenarios: %v\n", err)
			return exitUsage
		}
		_, _ = stdout.Write(src)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLENGTH\tDESCRIPTION")
	for _, info := range scenarios.Builtins() {
		length := "?"
		if s, err := scenarios.Builtin(info.Name); err == nil {
			length = s.TotalDuration().String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", info.Name, length, info.Description)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "brownout scenarios: %v\n", err)
		return exitFailed
	}
	return exitOK
}
