package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"brownout/scenarios"
)

// runCmd calls a command (or run) with args and returns its exit code,
// stdout and stderr.
func runCmd(t *testing.T, cmd func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cmd(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("phases: [{name: a, duration: 2m}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	warned := filepath.Join(dir, "warned.yaml")
	if err := os.WriteFile(warned, []byte("breaker: {policy: ratio}\nphases: [{name: a, duration: 2m}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("seed: x\nphases:\n  - {name: a, duration: 10}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		stdout    []string
		stderr    []string
		notStdout []string
	}{
		{"built-in", []string{"hard-outage"}, exitOK, []string{"hard-outage: ok (hard-outage: 3 phases, 4m30s, 7 thresholds)"}, nil, nil},
		{"file", []string{good}, exitOK, []string{"good.yaml: ok (good: 1 phase, 2m0s, 0 thresholds)"}, nil, nil},
		{"every error of every file", []string{bad, "hard-outgae", good}, exitUsage,
			[]string{"good.yaml: ok"},
			[]string{"bad.yaml:1:7: seed: found string \"x\", want an integer", "bad.yaml:3:25: phases[0].duration: found integer 10", "bad.yaml: 2 errors", `did you mean "hard-outage"?`}, nil},
		{"print", []string{"--print", good}, exitOK, []string{"# " + good + " with defaults applied", "name: good", "fail_threshold: 5"}, []string{"good.yaml: ok"}, []string{": ok ("}},
		{"warning", []string{warned}, exitOK, []string{"warned.yaml: ok (warned: 1 phase, 2m0s, 0 thresholds, 1 warning)"},
			[]string{"warned.yaml:1:19: breaker.policy: warning W001 (ratio-without-window): policy ratio with neither window nor interval"}, nil},
		{"strict", []string{"--strict", warned, good}, exitUsage, []string{"good.yaml: ok"},
			[]string{"warned.yaml:1:19: breaker.policy: warning W001", "1 warning, which --strict makes errors"}, []string{"warned.yaml: ok"}},
		{"schema", []string{"--schema"}, exitOK, []string{`"title": "brownout scenario"`}, nil, nil},
		{"no args", nil, exitUsage, nil, []string{"usage: brownout validate"}, nil},
		{"bad flag", []string{"--nope"}, exitUsage, nil, []string{"unknown flag"}, nil},
		{"help", []string{"--help"}, exitOK, nil, []string{"usage: brownout validate"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(t, cmdValidate, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errs)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			for _, w := range tc.notStdout {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestValidatePrintRoundTrips(t *testing.T) {
	code, out, errs := runCmd(t, cmdValidate, "--print", "overload")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	s, err := scenarios.Parse("printed.yaml", []byte(out))
	if err != nil {
		t.Fatalf("--print output does not parse: %v\n%s", err, out)
	}
	orig, _ := scenarios.Builtin("overload")
	if s.Name != orig.Name || s.TotalDuration() != orig.TotalDuration() || len(s.Thresholds) != len(orig.Thresholds) {
		t.Errorf("--print output differs from the built-in")
	}
}

func TestScenariosCommand(t *testing.T) {
	code, out, errs := runCmd(t, cmdScenarios)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(scenarios.Builtins())+1 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("want a header and one line per built-in:\n%s", out)
	}
	for _, info := range scenarios.Builtins() {
		if !strings.Contains(out, info.Name) || !strings.Contains(out, info.Description) {
			t.Errorf("listing lacks %s: %s", info.Name, info.Description)
		}
	}
	code, out, _ = runCmd(t, cmdScenarios, "--show", "hard-outage")
	if code != exitOK || !strings.HasPrefix(out, "# yaml-language-server: $schema=./schema.json") {
		t.Errorf("--show hard-outage: exit %d\n%s", code, out)
	}
	if code, _, errs := runCmd(t, cmdScenarios, "--show", "nope"); code != exitUsage || !strings.Contains(errs, "unknown built-in") {
		t.Errorf("--show nope: exit %d, %s", code, errs)
	}
	if code, _, _ := runCmd(t, cmdScenarios, "extra"); code != exitUsage {
		t.Errorf("extra argument: exit %d", code)
	}
}

// TestRunStrict: run prints a scenario's warnings and, with --strict,
// refuses to play it (exit 2, nothing written); a flag override that
// brings a warning in counts too.
func TestRunStrict(t *testing.T) {
	dir := t.TempDir()
	warned := filepath.Join(dir, "warned.yaml")
	if err := os.WriteFile(warned, []byte("breaker: {policy: ratio}\nphases: [{name: a, duration: 2m}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, errs := runCmd(t, cmdRun, warned, "--strict", "--out", out)
	if code != exitUsage || !strings.Contains(errs, "warned.yaml:1:19: breaker.policy: warning W001") {
		t.Errorf("exit %d, want %d with the warning; stderr:\n%s", code, exitUsage, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--strict played the run anyway: %v", err)
	}
	code, _, errs = runCmd(t, cmdRun, "hard-outage", "--policy", "ratio", "--strict", "--out", out)
	if code != exitUsage || !strings.Contains(errs, "breaker.policy: warning W001") {
		t.Errorf("override: exit %d, want %d with the warning; stderr:\n%s", code, exitUsage, errs)
	}
}
