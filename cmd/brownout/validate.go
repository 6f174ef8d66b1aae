package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"brownout/scenarios"
)

// cmdValidate checks scenario files or built-in names and prints every
// problem of every one of them, so a user fixes a file in one pass. It
// exits 0 when all are valid and 2 otherwise.
func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr,
		"usage: brownout validate FILE|NAME... [--print]",
		"       brownout validate --schema",
		"",
		"Checks scenario files (or built-in scenarios by name) and prints every error with",
		"file:line:column and the field path, then every warning (a setting that is valid but",
		"probably not meant) with its code. Exit status 0 when all are valid, 2 otherwise.",
		"See docs/scenarios.md for the format.",
	)
	var (
		printYAML = fs.Bool("print", false, "print each valid scenario as YAML with every default filled in (status lines go to stderr)")
		strict    = fs.Bool("strict", false, strictHelp)
		schema    = fs.Bool("schema", false, "print the JSON Schema of the scenario format and exit")
	)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if *schema {
		if fs.NArg() > 0 {
			fmt.Fprintln(stderr, "brownout validate: --schema takes no arguments")
			return exitUsage
		}
		_, _ = stdout.Write(scenarios.JSONSchema())
		return exitOK
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	status := stdout
	if *printYAML {
		status = stderr
	}
	code := exitOK
	printed := 0
	for _, arg := range fs.Args() {
		if ctx.Err() != nil {
			return exitInterrupted
		}
		s, err := scenarios.Open(arg)
		if err != nil {
			code = exitUsage
			var list *scenarios.ErrorList
			if errors.As(err, &list) {
				for _, fe := range list.Errors {
					fmt.Fprintln(stderr, fe.Error())
				}
				fmt.Fprintf(stderr, "%s: %d %s\n", arg, len(list.Errors), plural(len(list.Errors), "error", "errors"))
			} else {
				fmt.Fprintf(stderr, "%s: %v\n", arg, err)
			}
			continue
		}
		if reportWarnings(stderr, "validate", s.Warnings, *strict) {
			code = exitUsage
			continue
		}
		warned := ""
		if n := len(s.Warnings); n > 0 {
			warned = fmt.Sprintf(", %d %s", n, plural(n, "warning", "warnings"))
		}
		fmt.Fprintf(status, "%s: ok (%s: %d %s, %s, %d %s%s)\n", arg, s.Name,
			len(s.Phases), plural(len(s.Phases), "phase", "phases"), s.TotalDuration(),
			len(s.Thresholds), plural(len(s.Thresholds), "threshold", "thresholds"), warned)
		if *printYAML {
			out, err := scenarios.Marshal(s)
			if err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", arg, err)
				code = exitUsage
				continue
			}
			if printed > 0 {
				fmt.Fprintln(stdout, "---")
			}
			fmt.Fprintf(stdout, "# %s with defaults applied\n", arg)
			_, _ = stdout.Write(out)
			printed++
		}
	}
	return code
}

// plural picks the singular or plural form of a noun for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
