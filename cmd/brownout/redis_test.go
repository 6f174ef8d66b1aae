package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// closedRedisURL is a redis:// URL on a loopback port nothing listens on.
func closedRedisURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "redis://" + addr
}

// A --redis nobody answers on is a setup problem: exit 2 before anything
// is calibrated or played, one clear line, and none of go-redis's own log
// lines (it prints one per failed dial). Auto time scale (the scenario sets
// none) is played in a subprocess, as a user runs it, so that the
// process-wide logger is the one brownout's command sets; a sweep over the
// redis store is refused the same way.
func TestUnreachableRedisIsSetupProblem(t *testing.T) {
	path := writeScenario(t, shortRun)
	url := closedRedisURL(t)
	for _, args := range [][]string{
		{"run", path, "--redis", url, "--out", filepath.Join(t.TempDir(), "run"), "--quiet"},
		{"run", path, "--redis", url, "--out", filepath.Join(t.TempDir(), "run"), "--quiet", "--time-scale", "10"},
		{"sweep", path, "--store", "local,redis", "--fail-threshold", "3", "--out", filepath.Join(t.TempDir(), "sweep"), "--yes"},
	} {
		if args[0] == "sweep" {
			// A sweep takes the Redis URL from the scenario.
			sc := strings.Replace(shortRun, "breaker: {", "breaker: {redis_url: \""+url+"\", ", 1)
			args[1] = writeScenario(t, sc)
		}
		var out bytes.Buffer
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), beMainEnv+"=1")
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitUsage {
			t.Errorf("brownout %s: %v, want exit %d\n%s", strings.Join(args, " "), err, exitUsage, out.String())
			continue
		}
		got := out.String()
		want := "is unreachable"
		if !strings.Contains(got, want) || !strings.Contains(got, "leave out --redis") {
			t.Errorf("brownout %s: output lacks %q and what to do:\n%s", args[0], want, got)
		}
		if strings.Contains(got, "connection pool") || strings.Contains(got, "pool.go") {
			t.Errorf("brownout %s: go-redis's own log reached the terminal:\n%s", args[0], got)
		}
		if strings.Contains(got, "calibrating") || strings.Contains(got, "playing") || strings.Contains(got, "sweeping") {
			t.Errorf("brownout %s: started before checking Redis:\n%s", args[0], got)
		}
	}
}
