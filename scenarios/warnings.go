package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Warning is something a scenario allows but probably did not mean: it
// parses and runs, yet what it measures is likely not what its author
// wanted. `brownout validate` and `brownout run` print warnings; with
// --strict they are errors. Each has a stable code that a scenario can
// silence with ignore_warnings.
type Warning struct {
	// Code is the stable identifier, e.g. "W001"; Name its readable alias,
	// e.g. "ratio-without-window". ignore_warnings accepts either.
	Code, Name string
	// File, Line and Column locate the field (zero when the scenario was
	// not parsed from a file); Path names it.
	File         string
	Line, Column int
	Path         string
	// Message says what is wrong, why it matters and what to write
	// instead.
	Message string
}

// String formats the warning as "file:line:column: path: warning W001
// (ratio-without-window): message", like an error.
func (w Warning) String() string {
	fe := FieldError{File: w.File, Line: w.Line, Column: w.Column, Path: w.Path,
		Message: fmt.Sprintf("warning %s (%s): %s", w.Code, w.Name, w.Message)}
	return fe.Error()
}

// WarningKind is one kind of warning: its code, its name and what it
// catches.
type WarningKind struct {
	Code, Name, Doc string
}

// WarningKinds lists every warning, in code order. Codes are never reused.
var WarningKinds = []WarningKind{
	{"W001", "ratio-without-window", "policy ratio with neither window nor interval: the counts accumulate for as long as the breaker stays closed, so it trips later the longer the healthy stretch before an incident"},
	{"W002", "call-timeout-not-below-load-timeout", "breaker.call_timeout at or above a load timeout: the client gives up before the assistant does, so a hanging upstream shows as client timeouts instead of fallbacks"},
	{"W003", "window-below-min-requests", "policy ratio with a rolling window that cannot hold min_requests calls at the scenario's highest request rate: the breaker can never trip"},
	{"W004", "reset-timeout-beyond-run", "breaker.reset_timeout at least as long as the whole run: a breaker that opens stays open to the end, and no recovery is measured"},
	{"W005", "unused-setting", "a breaker setting given in the file, other than its default, that the policy or configuration ignores (buckets without window, fail_threshold under policy ratio, failure_ratio or min_requests under policy consecutive)"},
}

// knownWarning reports whether s is a warning's code or name.
func knownWarning(s string) bool {
	return slices.ContainsFunc(WarningKinds, func(k WarningKind) bool { return k.Code == s || k.Name == s })
}

// Lint returns the warnings of s that its ignore_warnings does not
// silence, without positions; Parse stores them, with positions, in
// s.Warnings. Use it on a scenario built or changed in code.
func (s *Scenario) Lint() []Warning { return s.lint(nil) }

// lint finds the warnings; given, when set, reports whether the file gave
// a field (the unused-setting check needs it and is skipped without it).
func (s *Scenario) lint(given func(string) bool) []Warning {
	var out []Warning
	warn := func(code, path, format string, args ...any) {
		i := slices.IndexFunc(WarningKinds, func(k WarningKind) bool { return k.Code == code })
		k := WarningKinds[i]
		if slices.Contains(s.IgnoreWarnings, k.Code) || slices.Contains(s.IgnoreWarnings, k.Name) {
			return
		}
		out = append(out, Warning{Code: k.Code, Name: k.Name, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	b := &s.Breaker
	ratio := b.Enabled && b.Policy == PolicyRatio
	if ratio && b.Window == 0 && b.Interval == 0 {
		warn("W001", "breaker.policy",
			"policy ratio with neither window nor interval: gobreaker's counts accumulate for as long as the breaker stays closed, so after a long healthy stretch the failures of an incident are diluted by every earlier success and it trips late (after an hour of healthy traffic, many minutes late); set breaker.window (e.g. 60s) for a rolling window, or interval for a fixed one")
	}
	if b.Enabled {
		timeout, where := s.Load.Timeout, "load.timeout"
		for i, p := range s.Phases {
			if p.Load.Timeout < timeout {
				timeout, where = p.Load.Timeout, join(index("phases", i), "load.timeout")
			}
		}
		if timeout > 0 && b.CallTimeout >= timeout {
			warn("W002", "breaker.call_timeout",
				"%s is not below %s %s: when the upstream hangs, the client gives up before the assistant does, so the run records client timeouts where the breaker would have answered from a fallback; set call_timeout below the client's timeout (e.g. %s)",
				b.CallTimeout, where, timeout, suggestBelow(timeout.D()))
		}
	}
	if ratio && b.Window > 0 {
		peak, where := 0.0, ""
		for _, p := range s.Phases {
			if r := peakRate(&p.Load.Rate); r > peak {
				peak, where = r, p.Name
			}
		}
		if calls := peak * b.Window.D().Seconds(); where != "" && calls < float64(b.MinRequests) {
			warn("W003", "breaker.window",
				"a %s window holds at most %.0f calls at the highest request rate (%g/s, phase %s), fewer than min_requests %d: the breaker can never trip; lengthen the window or lower min_requests",
				b.Window, calls, peak, where, b.MinRequests)
		}
	}
	if total := s.TotalDuration(); b.Enabled && total > 0 && b.ResetTimeout.D() >= total {
		warn("W004", "breaker.reset_timeout",
			"%s is at least the whole run (%s): a breaker that opens stays open to the end, so no probe, close or recovery is measured; shorten reset_timeout or lengthen the phases",
			b.ResetTimeout, total)
	}
	if given != nil && b.Enabled {
		// Only a value other than the default: Marshal writes every
		// setting, and its output should not warn.
		def := Defaults().Breaker
		unused := func(key string, differs bool, why string) {
			if differs && given(join("breaker", key)) {
				warn("W005", join("breaker", key), "%s has no effect: %s", key, why)
			}
		}
		if b.Window == 0 {
			unused("buckets", b.Buckets != def.Buckets, "it cuts the rolling window, and there is no window")
		}
		switch b.Policy {
		case PolicyRatio:
			unused("fail_threshold", b.FailThreshold != def.FailThreshold, "policy ratio trips on failure_ratio and min_requests")
		case PolicyConsecutive:
			unused("failure_ratio", b.FailureRatio != def.FailureRatio, "policy consecutive trips on fail_threshold")
			unused("min_requests", b.MinRequests != def.MinRequests, "policy consecutive trips on fail_threshold")
		}
	}
	return out
}

// suggestBelow proposes a call timeout comfortably below the client's
// timeout d: five sixths of it, in whole seconds when that is 2 s or more.
func suggestBelow(d time.Duration) time.Duration {
	s := d * 5 / 6
	if s >= 2*time.Second {
		return s.Truncate(time.Second)
	}
	return s.Round(time.Millisecond)
}

// peakRate is the highest request rate of a load pattern.
func peakRate(r *RateSpec) float64 {
	switch r.Pattern {
	case PatternRamp:
		return max(r.From.PerSecond(), r.To.PerSecond())
	case PatternSine:
		return r.Mean.PerSecond() + r.Amplitude.PerSecond()
	}
	return r.Rate.PerSecond()
}

// warningKindsText lists the codes and names for error messages.
func warningKindsText() string {
	parts := make([]string, len(WarningKinds))
	for i, k := range WarningKinds {
		parts[i] = k.Code + " (" + k.Name + ")"
	}
	return strings.Join(parts, ", ")
}
