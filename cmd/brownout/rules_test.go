package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateRefusesWhatRunRefuses drives `brownout validate` and
// `brownout run` from one table: each scenario is refused by both, with
// exit 2 (invalid input, never 1, which means a failed threshold) and the
// same file:line:column.
func TestValidateRefusesWhatRunRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, where string
	}{
		{"fail_threshold beyond uint32", "breaker: {fail_threshold: 4294967301}", ":2:27: breaker.fail_threshold: found 4294967301, want an integer from 1 to 10000"},
		{"fail_threshold beyond the assistant", "breaker: {fail_threshold: 20000}", ":2:27: breaker.fail_threshold"},
		{"top_k", "assistant: {top_k: 99}", ":2:20: assistant.top_k: found 99, want an integer from 1 to 50"},
		{"excerpts.count 0", "assistant: {excerpts: {count: 0}}", ":2:31: assistant.excerpts.count"},
		{"excerpts.chars", "assistant: {excerpts: {chars: 5}}", ":2:31: assistant.excerpts.chars"},
		{"durations whose sum overflows", "x: 1\nphases: [{name: a, duration: 2000000h}, {name: b, duration: 2000000h}]", ":3:9: phases: the phases last 4e+06h in total"},
		{"reset_timeout too short at the file's time scale", "time_scale: 100\nbreaker: {reset_timeout: 500ms}", ":2:13: time_scale: time scale 100 is too high: breaker.reset_timeout = 500ms would become 5ms"},
		{"time scale too low", "time_scale: 0.000000001", ":2:13: time_scale: time scale 1e-09 is too low"},
		{"rate", "load: {rate: 2000000/s}", ":2:14: load.rate.rate: found 2e+06/s"},
		{"syntax", "breaker:\n  enabled: true\n    policy: ratio", ":4:5: invalid YAML: key \"policy\" is indented more"},
		{"missing question file", "load: {queries: /nonexistent/q.txt}", ":2:17: load.queries: cannot read the question file"},
		{"a device as question file", "load: {queries: /dev/zero}", ":2:17: load.queries: /dev/zero is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: rules\n" + tc.yaml + "\n"
			if !strings.Contains(tc.yaml, "phases:") {
				src += "phases: [{name: a, duration: 60s}]\n"
			}
			path := filepath.Join(t.TempDir(), "rules.yaml")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			want := path + tc.where
			code, _, stderr := runCmd(t, cmdValidate, path)
			if code != exitUsage || !strings.Contains(stderr, want) {
				t.Errorf("validate: exit %d, want %d with %q; stderr:\n%s", code, exitUsage, want, stderr)
			}
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr = runCmd(t, cmdRun, "--quiet", "--out", out, path)
			if code != exitUsage || !strings.Contains(stderr, want) {
				t.Errorf("run: exit %d, want %d with %q; stderr:\n%s", code, exitUsage, want, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("run created %s for a scenario it refused", out)
			}
		})
	}
}

// TestRunSetupProblemsExit2 checks that bad flags and an unusable --out
// are reported as invalid input (exit 2) before anything plays.
func TestRunSetupProblemsExit2(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", []string{"--quiet"}, "no scenario given"},
		{"time scale 0", []string{"--time-scale", "0", "hard-outage"}, "--time-scale 0: want a number > 0"},
		{"time scale NaN", []string{"--time-scale", "NaN", "hard-outage"}, "--time-scale NaN: want a number > 0"},
		{"time scale too low", []string{"--time-scale", "1e-9", "hard-outage"}, "time scale 1e-09 is too low"},
		{"time scale too high", []string{"--time-scale", "1e6", "hard-outage"}, "time scale 1e+06 is too high"},
		{"a file as --out", []string{"--out", file, "hard-outage"}, "is a file, not a folder"},
		{"--out under a file", []string{"--out", filepath.Join(file, "sub"), "hard-outage"}, "cannot create the folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, cmdRun, append([]string{"--quiet"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", code, exitUsage, tc.want, stderr)
			}
		})
	}
}

// TestNonLoopbackWarning checks the warning `brownout assistant` and
// `brownout fakehf` print when they listen beyond this machine.
func TestNonLoopbackWarning(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000}, ""},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9000}, ""},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9000}, "listening on 0.0.0.0:9000, every network interface"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9000}, "listening on [::]:9000, every network interface"},
		{&net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 9000}, "listening on 192.168.1.5:9000, a non-loopback address"},
	} {
		if got := nonLoopbackWarning(tc.addr); got != tc.want {
			t.Errorf("nonLoopbackWarning(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// TestEndlessInputsStop checks that every command reading a YAML file
// stops on /dev/zero (an endless file) and on a nesting bomb, exit 2.
func TestEndlessInputsStop(t *testing.T) {
	bomb := filepath.Join(t.TempDir(), "bomb.yaml")
	if err := os.WriteFile(bomb, []byte("x: "+strings.Repeat("[", 100_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"/dev/zero", bomb} {
		for _, tc := range []struct {
			cmd  func(context.Context, []string, io.Writer, io.Writer) int
			args []string
		}{
			{cmdValidate, []string{file}},
			{cmdRun, []string{"--quiet", file}},
			{cmdReport, []string{"--thresholds", file, t.TempDir()}},
			{cmdFakeHF, []string{"--config", file}},
		} {
			code, _, stderr := runCmd(t, tc.cmd, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, file+":1:") && !strings.Contains(stderr, "nested more than") {
				t.Errorf("%v: exit %d, want %d naming %s; stderr:\n%s", tc.args, code, exitUsage, file, stderr)
			}
		}
	}
}

// TestServersAddressInUseExit2 checks that a server command whose address
// is taken reports a setup problem (exit 2), not a failure (exit 1).
func TestServersAddressInUseExit2(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for name, cmd := range map[string]func(context.Context, []string, io.Writer, io.Writer) int{"assistant": cmdAssistant, "fakehf": cmdFakeHF} {
		code, _, stderr := runCmd(t, cmd, "--listen", l.Addr().String())
		if code != exitUsage || !strings.Contains(stderr, "address already in use") {
			t.Errorf("%s: exit %d, want %d with the reason; stderr:\n%s", name, code, exitUsage, stderr)
		}
	}
}
