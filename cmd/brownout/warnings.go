package main

import (
	"fmt"
	"io"
	"slices"

	"brownout/scenarios"
)

// strictHelp documents --strict the same way for validate and run.
const strictHelp = "treat scenario warnings as errors (exit 2); silence one in the scenario with ignore_warnings: [CODE]"

// currentWarnings returns sc's warnings as it stands now, after any flag
// overrides: the ones Parse found, with their positions, that still hold,
// and any the overrides brought in (without a position). Parse's
// unused-setting warnings are kept as they are: they are about what the
// file says.
func currentWarnings(sc *scenarios.Scenario) []scenarios.Warning {
	var out []scenarios.Warning
	for _, w := range sc.Lint() {
		i := slices.IndexFunc(sc.Warnings, func(p scenarios.Warning) bool { return p.Code == w.Code && p.Path == w.Path })
		if i >= 0 {
			w.File, w.Line, w.Column = sc.Warnings[i].File, sc.Warnings[i].Line, sc.Warnings[i].Column
		}
		out = append(out, w)
	}
	for _, w := range sc.Warnings {
		if w.Name == "unused-setting" {
			out = append(out, w)
		}
	}
	return out
}

// reportWarnings prints ws to w, prefixed with the command, and tells
// whether --strict makes them fatal.
func reportWarnings(w io.Writer, cmd string, ws []scenarios.Warning, strict bool) (fatal bool) {
	for _, x := range ws {
		fmt.Fprintf(w, "brownout %s: %s\n", cmd, x)
	}
	if strict && len(ws) > 0 {
		fmt.Fprintf(w, "brownout %s: %d %s, which --strict makes errors\n", cmd, len(ws), plural(len(ws), "warning", "warnings"))
		return true
	}
	return false
}
