package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"brownout/recording"
)

// longRun is shortRun with a minute of recovery: it trips the breaker in
// its first seconds and is long enough to be killed in the middle.
var longRun = strings.Replace(shortRun, "{name: recovery, duration: 2s}", "{name: recovery, duration: 60s}", 1)

// waitFor polls cond every 50 ms of real time until it holds or the
// deadline passes: the subprocess runs in real time, outside any bubble.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(within)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
	}
}

// lastCompletion is the latest start+latency in a requests log, and the
// number of its records.
func lastCompletion(t *testing.T, dir string) (time.Duration, int) {
	t.Helper()
	var last time.Duration
	n := 0
	if err := recording.EachRequest(dir, func(r *recording.Request) error {
		last = max(last, r.T+r.Latency)
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return last, n
}

func TestKilledRunKeepsItsRecordsAndReportSaysIncomplete(t *testing.T) {
	if testing.Short() {
		t.Skip("plays about 6 s of a real run in a subprocess")
	}
	if longRun == shortRun {
		t.Fatal("shortRun changed: longRun no longer lengthens its recovery")
	}
	path := writeScenario(t, longRun)
	out := filepath.Join(t.TempDir(), "out")
	var childOut bytes.Buffer
	cmd := exec.Command(os.Args[0], "run", path, "--out", out, "--quiet")
	cmd.Env = append(os.Environ(), beMainEnv+"=1")
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Past the outage, with the breaker's transitions behind us. Scenario
	// time 0 (t0) is a little after started_at, once the servers are up;
	// a record that completed at scenario time C was on disk at real time
	// P, so t0 <= P - C: the smallest P - C seen bounds t0 from above.
	var h *recording.Header
	var t0 time.Time
	waitFor(t, 60*time.Second, "the run to play 6 s", func() bool {
		var err error
		if h, err = recording.ReadHeader(out); err != nil {
			return false
		}
		now := time.Now()
		if c, n := lastCompletion(t, out); n > 0 && (t0.IsZero() || now.Add(-c).Before(t0)) {
			t0 = now.Add(-c)
		}
		return time.Since(h.StartedAt) > 6*time.Second && !t0.IsZero()
	})

	// A second writer is refused while the first one runs.
	code, _, stderr := runCmd(t, run, "run", path, "--out", out, "--force", "--quiet")
	if code != exitUsage || !strings.Contains(stderr, "another brownout run is writing") {
		t.Fatalf("second run into the folder: exit %d, stderr:\n%s\nwant exit %d and a clear refusal", code, stderr, exitUsage)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no chance to flush
		t.Fatal(err)
	}
	killedAt := time.Now()
	cmd.Wait()

	last, n := lastCompletion(t, out)
	// The time scale is 1: scenario time is real time since t0.
	if want := killedAt.Sub(t0) - time.Second; last < want {
		t.Errorf("the killed run kept %d requests up to %v; want records up to at least %v (a second before the kill)\n%s", n, last, want, childOut.String())
	}
	trs, err := recording.ReadTransitions(out)
	if err != nil || len(trs) == 0 {
		t.Errorf("transitions.jsonl of the killed run: %d records, %v; the breaker opened in the outage", len(trs), err)
	}

	code, stdout, stderr := runCmd(t, run, "report", out)
	if code != exitFailed || !strings.Contains(stdout, "INCOMPLETE") {
		t.Errorf("report on the killed run: exit %d, want %d and INCOMPLETE\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout, stderr)
	}
	var row string
	for line := range strings.Lines(stdout) {
		if strings.HasPrefix(line, "upstream_calls{breaker:open}") {
			row = line
		}
	}
	if !strings.Contains(row, "not judged") || strings.Contains(row, "pass") {
		t.Errorf("a whole-run threshold was judged on a killed run: %q", row)
	}
	var sum struct {
		Complete   bool     `json:"complete"`
		Incomplete []string `json:"incomplete"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil || sum.Complete || len(sum.Incomplete) == 0 {
		t.Errorf("summary.json says complete %v, incomplete %q (%v)", sum.Complete, sum.Incomplete, err)
	}
	j, _ := os.ReadFile(filepath.Join(out, "junit.xml"))
	if !strings.Contains(string(j), `type="incomplete"`) {
		t.Errorf("junit.xml lacks the errored incomplete case")
	}

	// The folder now holds a run: a new one is refused without --force,
	// before it calibrates or says it is playing.
	for _, scale := range []string{"1", "auto"} {
		code, _, stderr = runCmd(t, run, "run", path, "--out", out, "--quiet", "--time-scale", scale)
		if code != exitUsage || !strings.Contains(stderr, "holds an earlier run") || !strings.Contains(stderr, "--force") ||
			strings.Contains(stderr, "playing") || strings.Contains(stderr, "calibrating") {
			t.Errorf("time scale %s: run into a folder with an earlier run: exit %d, stderr:\n%s\nwant exit %d, only a refusal naming --force", scale, code, stderr, exitUsage)
		}
	}
}

// saturating asks for 40 requests/s of a 200 ms upstream from at most 2
// workers: about 10/s can be sent.
const saturating = `
name: saturating
seed: 1
load: {rate: 40/s, timeout: 2s, max_workers: 2}
upstream:
  latency: {ttft: {dist: fixed, value: 200ms}, per_token: {dist: fixed, value: 0s}}
  tokens: 8
phases:
  - {name: steady, duration: 2s}
thresholds:
  "latency_p99": ["< 1s"]
`

func TestSaturatedRunIsFlagged(t *testing.T) {
	path := writeScenario(t, saturating)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, run, "run", path, "--out", out, "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "LOAD SHORT") {
		t.Errorf("the terminal does not flag the shortfall:\n%s", stdout)
	}
	var sum struct {
		LoadShort bool                       `json:"load_short"`
		Overall   map[string]json.RawMessage `json:"overall"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	num := func(k string) float64 {
		var v float64
		json.Unmarshal(sum.Overall[k], &v)
		return v
	}
	if !sum.LoadShort || num("achieved_rate_ratio") > 0.5 {
		t.Errorf("summary.json: load_short %v, achieved_rate_ratio %v; want flagged, at most 50%%", sum.LoadShort, num("achieved_rate_ratio"))
	}
	// Latency from the delayed send hides the queue; from the intended
	// send it does not.
	if lat, resp := num("latency_p99"), num("response_time_p99"); resp < lat+0.3 {
		t.Errorf("response_time_p99 %v s is not well above latency_p99 %v s on a saturated run", resp, lat)
	}
}

func TestReportRefusesEmptyThresholdsFile(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"empty.yaml":    "",
		"comments.yaml": "# nothing yet\n\n",
		"nomap.yaml":    "thresholds: {}\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		want := "is empty"
		if name == "nomap.yaml" {
			want = "has no thresholds"
		}
		code, _, stderr := runCmd(t, run, "report", dir, "--thresholds", path)
		if code != exitUsage || !strings.Contains(stderr, want) || strings.Contains(stderr, "phases") {
			t.Errorf("%s: exit %d, stderr %q; want exit %d saying it %s", name, code, stderr, exitUsage, want)
		}
	}
}
