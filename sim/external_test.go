package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"brownout/contract"
	"brownout/recording"
	"brownout/reports"
	"brownout/scenarios"
)

// The brownout binary, built once for the tests that launch it.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// brownoutBinary builds cmd/brownout into a temporary folder.
func brownoutBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		if binary.dir, binary.err = os.MkdirTemp("", "brownout-bin-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "brownout")
		out, err := exec.Command("go", "build", "-o", binary.path, "brownout/cmd/brownout").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

func removeBinaries() {
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
}

// builtinCommand launches `brownout assistant` with the scenario's
// assistant settings; the breaker's come from the environment brownout
// sets by default.
func builtinCommand(t *testing.T) *Command {
	return &Command{Args: []string{brownoutBinary(t), "assistant", "--listen", "127.0.0.1:{port}",
		"--top-k", "{assistant.top_k}", "--cache-size", "{assistant.cache.size}", "--cache-ttl", "{assistant.cache.ttl.ms}ms",
		"--excerpts", "{assistant.excerpts.count}", "--excerpt-chars", "{assistant.excerpts.chars}", "--log-level", "warn"}}
}

// pythonCommand launches the independent implementation of the contract
// kept in testdata.
func pythonCommand(t *testing.T) *Command {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	// The interpreter itself, not a version manager's shim that starts a
	// shell first: startup counts against the ready timeout.
	if out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output(); err == nil && len(out) > 1 {
		py = strings.TrimSpace(string(out))
	}
	script, err := filepath.Abs(filepath.Join("testdata", "seed_service.py"))
	if err != nil {
		t.Fatal(err)
	}
	return &Command{Args: []string{py, script}}
}

func builtinScenario(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// verdicts judges a recording against its scenario's thresholds.
func verdicts(t *testing.T, sc *scenarios.Scenario, dir string) string {
	t.Helper()
	rec, err := reports.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, v := range reports.Evaluate(rec, sc.Thresholds) {
		fmt.Fprintf(&b, "%s %s: %v; ", v.Threshold.Key, v.Condition, v.Passed)
	}
	return b.String()
}

// groupGone reports whether no process of the group led by pid is left.
func groupGone(pid int) bool {
	return errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH)
}

// playAgainst plays sc at time scale k into a new folder, against target
// (nil: the built-in assistant in process).
func playAgainst(t *testing.T, sc *scenarios.Scenario, k float64, target Target, opts ...Option) (*Result, *loadedRun, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	opts = append([]Option{WithOutDir(dir), WithTimeScale(k)}, opts...)
	if target != nil {
		opts = append(opts, WithTarget(target))
	}
	res, err := Run(context.Background(), sc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res, loadRun(t, dir), dir
}

// TestIndependentImplementation plays an outage against the Python
// implementation of the contract in testdata and against the built-in
// assistant: two breakers written apart from each other must go through
// the same transitions. Times are checked against the breaker's own
// definition, which polling must preserve: each open → half-open comes
// reset_timeout after the open, within the two polled intervals. (Exact
// times differ between two real-time runs by more than a polling interval
// on a loaded machine, so they are not compared across runs here.)
func TestIndependentImplementation(t *testing.T) {
	sc := parseScenario(t, "short-outage.yaml", []byte(shortOutage))
	// Phase edges far from where probes fall: opened at 1–1.5 s, the first
	// probe (2–2.5 s) fails in the outage, the second (3–3.5 s) succeeds.
	sc.Phases[1].Duration = scenarios.Duration(1800 * time.Millisecond)
	_, in, _ := playAgainst(t, sc, 1, nil)
	_, out, _ := playAgainst(t, sc, 1, pythonCommand(t))
	if a, b := breakerSequence(in), breakerSequence(out); a != b {
		t.Errorf("transitions differ:\nbuilt-in: %s\nPython:   %s", a, b)
	}
	reset, slack := sc.Breaker.ResetTimeout.D(), 20*time.Millisecond
	var opened *recording.Transition
	for i, tr := range out.transitions {
		switch {
		case tr.To == contract.StateOpen:
			opened = &out.transitions[i]
		case tr.To == contract.StateHalfOpen && opened != nil:
			// open in (To-Ro, To], half-open in (Th-Rh, Th], half-open =
			// open + reset: so Th-To lies in (reset-Ro, reset+Rh).
			d := tr.T - opened.T
			if d < reset-opened.Resolution-slack || d > reset+tr.Resolution+slack {
				t.Errorf("half-open %v after the open seen at %v (intervals %v and %v): want reset_timeout %v", d, opened.T, opened.Resolution, tr.Resolution, reset)
			}
		}
	}
	for _, c := range out.calls {
		if c.Breaker == contract.StateOpen {
			t.Errorf("upstream call while the Python service's breaker was certainly open: %+v", c)
		}
	}
	for _, r := range out.requests {
		if r.Outcome == contract.OutcomeBadResponse || r.Outcome == contract.OutcomeError {
			t.Fatalf("an answer of the Python service was not understood: %+v", r)
		}
	}
	t.Logf("Python service: %s; widest polled interval %v", breakerSequence(out), maxResolution(out))
}

func maxResolution(lr *loadedRun) time.Duration {
	var m time.Duration
	for _, tr := range lr.transitions {
		m = max(m, tr.Resolution)
	}
	return m
}

// misbehaving launches the Python service with a fault, writing its pid
// to a file so the test can check its process group is gone afterwards.
func misbehaving(t *testing.T, fault string) (*Command, func() int) {
	t.Helper()
	c := pythonCommand(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	c.Env = map[string]string{"SEED_SERVICE_MISBEHAVE": fault, "SEED_SERVICE_PIDFILE": pidFile}
	c.ReadyTimeout = 20 * time.Second // a loaded machine starts Python slowly
	if fault == "never-ready" {
		c.ReadyTimeout = 5 * time.Second
	}
	c.StopGrace = 500 * time.Millisecond
	return c, func() int {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatalf("the service never started: %v", err)
		}
		var pid int
		fmt.Sscan(string(b), &pid)
		return pid
	}
}

// tinyOutage is shortOutage cut to 2 s, short enough for the tests of
// misbehaving targets.
func tinyOutage(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc := parseScenario(t, "short-outage.yaml", []byte(shortOutage))
	sc.Name = "tiny-outage"
	sc.Breaker.ResetTimeout = scenarios.Duration(500 * time.Millisecond)
	for i, d := range []time.Duration{500 * time.Millisecond, time.Second, 500 * time.Millisecond} {
		sc.Phases[i].Duration = scenarios.Duration(d)
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestMisbehavingTargets(t *testing.T) {
	sc := tinyOutage(t)
	tests := []struct {
		fault   string
		wantErr string // "" for a run that completes
		check   func(t *testing.T, res *Result, lr *loadedRun)
	}{
		{"never-ready", "was not ready", nil},
		{"crash-after=15", "exited during the run", func(t *testing.T, _ *Result, lr *loadedRun) {
			if !lr.header.Complete || !lr.header.Interrupted || len(lr.requests) < 10 {
				t.Errorf("recording after a crash: complete=%v interrupted=%v, %d requests", lr.header.Complete, lr.header.Interrupted, len(lr.requests))
			}
		}},
		{"bad-shape", "", func(t *testing.T, _ *Result, lr *loadedRun) {
			for _, r := range lr.requests {
				if r.Outcome != contract.OutcomeBadResponse {
					t.Fatalf("an array answer classified %s, want bad_response: %+v", r.Outcome, r)
				}
			}
		}},
		{"ignore-term", "", func(t *testing.T, res *Result, _ *loadedRun) {
			if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "did not exit within") {
				t.Errorf("warnings %q, want one saying the service was killed", res.Warnings)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			c, pid := misbehaving(t, tt.fault)
			dir := filepath.Join(t.TempDir(), "run")
			res, err := Run(context.Background(), sc, WithOutDir(dir), WithTarget(c))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), "last lines of its log"):
				t.Errorf("error does not quote the service's log: %v", err)
			}
			if !groupGone(pid()) {
				t.Errorf("the service's process group is still there")
			}
			if _, err := os.Stat(filepath.Join(dir, TargetLogFile)); err != nil {
				t.Errorf("no target log: %v", err)
			}
			if tt.check != nil {
				tt.check(t, res, loadRun(t, dir))
			}
		})
	}
}

func TestRefusedTargets(t *testing.T) {
	sc := tinyOutage(t)
	taken, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	py := pythonCommand(t)
	portTaken := *py
	portTaken.Endpoint.URL = "http://" + taken.Addr().String()
	offLoopback := *py
	offLoopback.Endpoint.URL = "http://192.0.2.1:{port}"
	tests := []struct {
		name    string
		target  Target
		k       float64
		wantErr string
	}{
		{"port already taken", &portTaken, 1, "already taken by another process"},
		{"non-loopback launched", &offLoopback, 1, "not a loopback address"},
		{"non-loopback running", &Service{Endpoint: Endpoint{URL: "http://192.0.2.1:8000"}}, 1, "not a loopback address"},
		{"running at another scale", &Service{Endpoint: Endpoint{URL: "http://127.0.0.1:1"}}, 2, "only time scale 1"},
		{"running but absent", &Service{Endpoint: Endpoint{URL: "http://" + taken.Addr().String()}, ReadyTimeout: 300 * time.Millisecond}, 1, "did not answer"},
		{"unknown placeholder", &Command{Args: []string{"true", "{nope}"}}, 1, "unknown placeholder {nope}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			_, err := Run(context.Background(), sc, WithOutDir(dir), WithTimeScale(tt.k), WithTarget(tt.target))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
			}
			if _, err := recording.ReadHeader(dir); err != nil {
				t.Errorf("the recording is not readable after a refused target: %v", err)
			}
		})
	}
}

// TestRunningService plays against a service started beforehand, which
// calls the fake upstream at the address given to brownout.
func TestRunningService(t *testing.T) {
	sc := tinyOutage(t)
	py := pythonCommand(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	upstream, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py.Args[0], py.Args[1:]...)
	cmd.Env = append(os.Environ(), "PORT="+port, "HF_API_BASE=http://127.0.0.1:"+upstream,
		"CIRCUIT_BREAKER_FAIL_THRESHOLD=4", "CIRCUIT_BREAKER_RESET_TIMEOUT=0.5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	svc := &Service{Endpoint: Endpoint{URL: "http://127.0.0.1:" + port}}
	_, lr, _ := playAgainst(t, sc, 1, svc, WithUpstreamListen("127.0.0.1:"+upstream))
	if lr.header.Target == nil || lr.header.Target.Kind != "running" {
		t.Fatalf("header target %+v", lr.header.Target)
	}
	got := parseScenario(t, "run.json", []byte(lr.header.ScenarioYAML))
	if got.Breaker.FailThreshold != 4 || got.Breaker.ResetTimeout.D() != 500*time.Millisecond {
		t.Errorf("recorded breaker %+v, want the service's fail_max 4 and reset_timeout 0.5s", got.Breaker)
	}
	if len(lr.transitions) == 0 || lr.transitions[0].To != contract.StateOpen {
		t.Errorf("transitions %s, want the outage to open the breaker", breakerSequence(lr))
	}
}

// TestInferredTransitions plays against a service with no health endpoint:
// the breaker is inferred from its answers, and the recording says so.
func TestInferredTransitions(t *testing.T) {
	sc := parseScenario(t, "short-outage.yaml", []byte(shortOutage))
	py := pythonCommand(t)
	py.Endpoint.HealthPath = NoHealth
	_, lr, _ := playAgainst(t, sc, 1, py)
	if lr.header.Target.Observed != recording.ObservedAnswers {
		t.Errorf("target %+v: want transitions inferred from the answers", lr.header.Target)
	}
	if len(lr.transitions) < 2 || lr.transitions[0].To != contract.StateOpen || lr.transitions[len(lr.transitions)-1].To != contract.StateClosed {
		t.Errorf("inferred %s, want open … closed", breakerSequence(lr))
	}
	for _, tr := range lr.transitions {
		if tr.To == contract.StateHalfOpen || tr.Resolution <= 0 {
			t.Errorf("inferred transition %+v: half-open cannot be seen, and each needs its interval", tr)
		}
	}
	_ = math.Abs
	_ = errors.New
}

// breakerSequence spells a run's transitions as from→to pairs.
func breakerSequence(lr *loadedRun) string {
	var b strings.Builder
	for _, tr := range lr.transitions {
		fmt.Fprintf(&b, "%s→%s ", tr.From, tr.To)
	}
	return b.String()
}

// TestScenarioTargetBlock plays a scenario whose target block launches the
// Python service, with an env placeholder, and no target option.
func TestScenarioTargetBlock(t *testing.T) {
	py := pythonCommand(t)
	base, err := scenarios.Marshal(tinyOutage(t))
	if err != nil {
		t.Fatal(err)
	}
	block := fmt.Sprintf("target:\n  command: [%q, %q]\n  env: {CIRCUIT_BREAKER_NAME: \"{breaker.name}-py\"}\n", py.Args[0], py.Args[1])
	sc := parseScenario(t, "with-target.yaml", append(base, block...))
	_, lr, _ := playAgainst(t, sc, 1, nil)
	if lr.header.Target == nil || lr.header.Target.Kind != "launched" || !strings.Contains(lr.header.Target.Command, "seed_service.py") {
		t.Fatalf("header target %+v, want the scenario's command", lr.header.Target)
	}
	if len(lr.header.Breakers) != 1 || lr.header.Breakers[0] != "huggingface_api-py" {
		t.Errorf("breakers %v, want the name the env placeholder gave", lr.header.Breakers)
	}
	if len(lr.transitions) == 0 {
		t.Error("no transition seen during the outage")
	}
}

// TestUncorrectedLatencyIsSaid plays a compressed run against the Python
// service, which does not forward X-Request-Id, and against the built-in
// assistant launched as a process, which does: only the first must say
// that its upstream waits could not be scaled.
func TestUncorrectedLatencyIsSaid(t *testing.T) {
	sc := tinyOutage(t)
	py, run, _ := playAgainst(t, sc, 2, pythonCommand(t))
	if len(run.calls) == 0 {
		t.Fatal("the Python service made no upstream calls")
	}
	if got, want := py.Distortion.UncorrectedCalls, int64(len(run.calls)); got != want {
		t.Errorf("Python service: %d uncorrected calls, want all %d", got, want)
	}
	// Its calls are still judged, from the fake's side.
	if got, want := py.Distortion.UpstreamCalls, int64(len(run.calls)); got != want {
		t.Errorf("Python service: %d upstream calls judged, want all %d from the fake's side", got, want)
	}
	if !slices.ContainsFunc(py.Warnings, func(w string) bool { return strings.Contains(w, "does not forward X-Request-Id") }) {
		t.Errorf("no warning about the unforwarded request id: %q", py.Warnings)
	}
	in, _, _ := playAgainst(t, sc, 2, builtinCommand(t))
	if in.Distortion.UncorrectedCalls != 0 {
		t.Errorf("built-in assistant: %d uncorrected calls, want 0 (it forwards the id)", in.Distortion.UncorrectedCalls)
	}
}

// TestAutoCalibratesAgainstTheLaunchedService: given a launched service,
// auto's probes play against it, not against the built-in assistant. The
// Python service does not forward X-Request-Id, so the probes' upstream
// calls are uncorrected, which only a probe against it can show.
func TestAutoCalibratesAgainstTheLaunchedService(t *testing.T) {
	sc := tinyOutage(t)
	cfg := AutoConfig{Accept: func(k float64) bool { return k <= 2 }}
	c, err := AutoTimeScale(context.Background(), sc, cfg, WithTarget(pythonCommand(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Probes) == 0 {
		t.Fatalf("no probe played: %+v", c)
	}
	for _, p := range c.Probes {
		if p.Distortion == nil || p.Distortion.UncorrectedCalls == 0 {
			t.Errorf("probe at %g (confirm %v): %+v, want the Python service's uncorrected calls", p.Scale, p.Confirm, p.Distortion)
		}
	}
	t.Log(c.Why)
}
