package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"brownout/scenarios"
	"brownout/sweep"
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

// sweepWarnings lists the scenario's own warnings, then each warning that
// a sweep's cells add to them (a ratio-policy cell without a window, a
// call timeout a cell sets at or above the load timeout), once, with the
// cells it applies to: a warning on the file alone would miss what the
// grid's settings bring.
func sweepWarnings(sc *scenarios.Scenario, cells []sweep.Settings) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range currentWarnings(sc) {
		out = append(out, w.String())
		seen[w.Code+" "+w.Path] = true
	}
	type added struct {
		w     scenarios.Warning
		cells []string
	}
	var order []string
	byKey := map[string]*added{}
	for _, c := range cells {
		csc, err := c.Apply(sc, sc.Seed)
		if err != nil {
			continue // the sweep refuses the cell with its reason
		}
		for _, w := range csc.Lint() {
			if seen[w.Code+" "+w.Path] {
				continue
			}
			key := w.Code + " " + w.Path + " " + w.Message
			if byKey[key] == nil {
				byKey[key] = &added{w: w}
				order = append(order, key)
			}
			byKey[key].cells = append(byKey[key].cells, c.Name())
		}
	}
	for _, key := range order {
		a := byKey[key]
		names := a.cells
		more := ""
		if len(names) > 4 {
			names, more = names[:4], fmt.Sprintf(" and %d more", len(a.cells)-4)
		}
		out = append(out, fmt.Sprintf("%s (in %d %s: %s%s)", a.w, len(a.cells), plural(len(a.cells), "cell", "cells"), strings.Join(names, ", "), more))
	}
	return out
}
