package sim

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

func TestMain(m *testing.M) {
	// As the brownout command does: the harness's heap is small and
	// short-lived, and the default GC target makes it collect so often that
	// the pauses show in the latencies it measures.
	debug.SetGCPercent(400)
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { removeBinaries() }))
}

// loadRun reads back a run folder.
type loadedRun struct {
	header      *recording.Header
	requests    []recording.Request
	transitions []recording.Transition
	calls       []recording.UpstreamCall
}

func loadRun(t *testing.T, dir string) *loadedRun {
	t.Helper()
	h, err := recording.ReadHeader(dir)
	if err != nil {
		t.Fatal(err)
	}
	lr := &loadedRun{header: h}
	if err := recording.EachRequest(dir, func(r *recording.Request) error { lr.requests = append(lr.requests, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if lr.transitions, err = recording.ReadTransitions(dir); err != nil {
		t.Fatal(err)
	}
	if err := recording.EachUpstreamCall(dir, func(c *recording.UpstreamCall) error { lr.calls = append(lr.calls, *c); return nil }); err != nil {
		t.Fatal(err)
	}
	if int64(len(lr.requests)) != h.Counts.Requests || int64(len(lr.transitions)) != h.Counts.Transitions || int64(len(lr.calls)) != h.Counts.UpstreamCalls {
		t.Fatalf("header counts %+v do not match the files (%d, %d, %d)", h.Counts, len(lr.requests), len(lr.transitions), len(lr.calls))
	}
	return lr
}

func phaseSpan(t *testing.T, h *recording.Header, name string) recording.PhaseSpan {
	t.Helper()
	for _, p := range h.Phases {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no phase %q", name)
	return recording.PhaseSpan{}
}

// checkBreakerInvariants checks what follows from the breaker's definition
// on a recording of hard-outage, not from the implementation. exact is for
// virtual time, where the fake's clock and the breaker's agree to the
// nanosecond; over real sockets a failure reaches the breaker a little
// after the fake logged it, so only the bound that lag cannot break is
// checked there.
func checkBreakerInvariants(t *testing.T, sc *scenarios.Scenario, lr *loadedRun, exact bool) {
	t.Helper()
	threshold := sc.Breaker.FailThreshold
	reset := sc.Breaker.ResetTimeout.D()
	outage := phaseSpan(t, lr.header, "outage")

	if len(lr.transitions) == 0 || lr.transitions[0].To != contract.StateOpen {
		t.Fatalf("first transition should be into open, got %+v", lr.transitions)
	}
	firstOpen := lr.transitions[0].T

	// 1. It opens after exactly fail_threshold consecutive failures: in
	//    completion order, the calls that finished before the trip end in
	//    a run of exactly fail_threshold failures (calls that were still in
	//    flight from the healthy phase may succeed during the outage and
	//    restart the count; that is the definition at work).
	var done []recording.UpstreamCall
	for _, c := range lr.calls {
		if c.T+c.Duration <= firstOpen {
			done = append(done, c)
		}
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].T+done[i].Duration < done[j].T+done[j].Duration })
	run, failed := 0, 0
	for i := len(done) - 1; i >= 0 && done[i].Failed(); i-- {
		run++
	}
	for _, c := range done {
		if c.Failed() && c.T >= outage.Start {
			failed++
		}
	}
	switch {
	case exact && run != threshold:
		t.Errorf("breaker opened after a run of %d failed calls, want exactly fail_threshold=%d", run, threshold)
	case !exact && failed < threshold:
		t.Errorf("breaker opened after %d failed calls, want at least fail_threshold=%d", failed, threshold)
	}
	if firstOpen < outage.Start {
		t.Errorf("breaker opened at %v, before the outage began at %v", firstOpen, outage.Start)
	}

	// 2. No upstream call arrives while the breaker is open.
	for _, c := range lr.calls {
		if c.Breaker == contract.StateOpen {
			t.Errorf("upstream call while open: %+v", c)
		}
	}

	// 3. Half-open probes during the outage: one per reset timeout after
	//    the first trip, ±1.
	probes := 0
	for _, tr := range lr.transitions {
		if tr.To == contract.StateHalfOpen && tr.T >= outage.Start && tr.T < outage.End {
			probes++
		}
	}
	want := int((outage.End - firstOpen) / reset)
	if probes < want-1 || probes > want+1 {
		t.Errorf("%d half-open probes during the outage, want %d±1 (first open at %v, reset %v)", probes, want, firstOpen, reset)
	}

	// 4. After recovery the breaker closes, and answers come from the
	//    upstream again.
	last := lr.transitions[len(lr.transitions)-1]
	if last.To != contract.StateClosed {
		t.Errorf("last transition %+v, want into closed", last)
		failures := map[string]int{}
		for _, c := range lr.calls {
			if c.Failed() && c.Phase == "recovery" {
				failures[fmt.Sprintf("status %d fault %q after %v", c.Status, c.Fault, c.Duration.Round(time.Millisecond))]++
			}
		}
		t.Logf("failed upstream calls in recovery: %v", failures)
	}
	tail, upstream := 0, 0
	for _, r := range lr.requests {
		if r.T > last.T+time.Second {
			tail++
			if r.Outcome == contract.OutcomeUpstream || r.Outcome == contract.OutcomeCache {
				upstream++
			}
		}
	}
	if tail == 0 || float64(upstream)/float64(tail) < 0.99 {
		t.Errorf("after the close: %d of %d answers from the upstream or cache, want ≥ 99%%", upstream, tail)
	}
}

// hardOutage returns the built-in hard-outage scenario.
func hardOutage(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// playVirtual plays sc at time scale 1 in memory, inside a synctest
// bubble, into a new run folder, and returns the result and the folder.
// With stopAfter > 0 the run is cancelled after that much virtual time.
func playVirtual(t *testing.T, sc *scenarios.Scenario, stopAfter time.Duration) (*Result, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	var res *Result
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		if stopAfter > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			time.AfterFunc(stopAfter, cancel)
		}
		var err error
		if res, err = Run(ctx, sc, WithOutDir(dir), WithTimeScale(1), InMemory()); err != nil {
			t.Fatal(err)
		}
	})
	if res == nil {
		t.FailNow()
	}
	return res, dir
}

func TestHardOutageVirtualTime(t *testing.T) {
	sc := hardOutage(t)
	res, dir := playVirtual(t, sc, 0)
	if res.Interrupted {
		t.Error("run marked interrupted")
	}
	lr := loadRun(t, dir)
	if !lr.header.Complete || lr.header.Interrupted {
		t.Errorf("header: complete=%v interrupted=%v", lr.header.Complete, lr.header.Interrupted)
	}
	if got, want := lr.header.Duration, sc.TotalDuration(); got != want {
		t.Errorf("covered %v, want %v", got, want)
	}
	// The pacer sends the integral of the rate: 60 s×20 + 90 s×20 + 120 s×40.
	if n, want := len(lr.requests), 7800; math.Abs(float64(n-want)) > 2 {
		t.Errorf("%d requests, want %d±2", n, want)
	}
	checkBreakerInvariants(t, sc, lr, true)
	// In virtual time every request is sent when due and the breaker turns
	// half-open on the first one past its reset timeout: both checks read
	// (within the pacer's 0.1 µs rounding) zero.
	if d := res.Distortion; d.BreakerTimers < 1 || d.BreakerLatenessMax > time.Microsecond || d.SendLagP99 > time.Microsecond || d.Distorted {
		t.Errorf("distortion %+v: want at least one half-open transition timed, all on time", *d)
	}
	// One replica: no record carries a replica (the files are as before).
	for _, r := range lr.requests {
		if r.Replica != 0 {
			t.Fatalf("one-replica run: request with replica %d", r.Replica)
		}
	}
	for _, c := range lr.calls {
		if c.Replica != 0 {
			t.Fatalf("one-replica run: upstream call with replica %d", c.Replica)
		}
	}
	for _, tr := range lr.transitions {
		if tr.Replica != 0 {
			t.Fatalf("one-replica run: transition with replica %d", tr.Replica)
		}
	}
}

func TestVirtualTimeIsDeterministic(t *testing.T) {
	sc := hardOutage(t)
	var seqs [2][]recording.Transition
	for i := range seqs {
		_, dir := playVirtual(t, sc, 0)
		seqs[i] = loadRun(t, dir).transitions
	}
	if len(seqs[0]) != len(seqs[1]) {
		t.Fatalf("transition counts differ: %d vs %d", len(seqs[0]), len(seqs[1]))
	}
	for i := range seqs[0] {
		if seqs[0][i] != seqs[1][i] {
			t.Errorf("transition %d differs: %+v vs %+v", i, seqs[0][i], seqs[1][i])
		}
	}
}

func TestInterruptKeepsAValidRecording(t *testing.T) {
	res, dir := playVirtual(t, hardOutage(t), 100*time.Second)
	if !res.Interrupted {
		t.Error("Result.Interrupted = false")
	}
	lr := loadRun(t, dir)
	if !lr.header.Interrupted || !lr.header.Complete {
		t.Errorf("header: interrupted=%v complete=%v, want both", lr.header.Interrupted, lr.header.Complete)
	}
	if d := lr.header.Duration; d < 100*time.Second || d > 104*time.Second {
		t.Errorf("covered %v, want about 100s", d)
	}
	if len(lr.requests) < 1900 || len(lr.requests) > 2100 {
		t.Errorf("%d requests recorded before the stop, want about 2000", len(lr.requests))
	}
}

func TestCheckTimeScale(t *testing.T) {
	sc := hardOutage(t)
	if err := CheckTimeScale(sc, 40); err != nil {
		t.Errorf("K=40: %v", err)
	}
	for _, k := range []float64{0, -1, 1e6} {
		if err := CheckTimeScale(sc, k); err == nil {
			t.Errorf("K=%g: want an error", k)
		}
	}
}

// shortOutage is small enough to play over real sockets under the race
// detector: it exercises the loopback wiring, the stamp transport and the
// recorder's concurrency rather than timing.
const shortOutage = `
name: short-outage
seed: 7
breaker: {fail_threshold: 3, reset_timeout: 1s, call_timeout: 500ms}
load: {rate: 50/s, timeout: 2s}
upstream:
  latency: {ttft: {dist: fixed, value: 5ms}, per_token: {dist: fixed, value: 0s}}
  tokens: 8
phases:
  - {name: healthy, duration: 1s}
  - name: outage
    duration: 2s
    faults: [{kind: status, code: 500}]
  - {name: recovery, duration: 2s}
`

func TestLoopbackRun(t *testing.T) {
	sc := parseScenario(t, "short-outage.yaml", []byte(shortOutage))
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), sc, WithOutDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	lr := loadRun(t, dir)
	if !lr.header.Complete || res.Interrupted {
		t.Errorf("complete=%v interrupted=%v", lr.header.Complete, res.Interrupted)
	}
	if n := len(lr.requests); n < 245 || n > 255 {
		t.Errorf("%d requests, want 250±5", n)
	}
	opens := 0
	for _, tr := range lr.transitions {
		if tr.To == contract.StateOpen {
			opens++
		}
	}
	if opens == 0 {
		t.Error("the breaker never opened during a 2 s hard outage")
	}
	for _, c := range lr.calls {
		if c.Breaker == contract.StateOpen {
			t.Errorf("upstream call sent while the breaker was open: %+v", c)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, recording.VegetaFile)); err != nil {
		t.Error(err)
	}
}

// TestDrawnTimelineIsRecorded: a run of a scenario whose outage length and
// start vary plays and records the timeline Resolve draws from its seed:
// run.json's phases hold the drawn lengths, and the recorded scenario is
// the incident as played.
func TestDrawnTimelineIsRecorded(t *testing.T) {
	sc := hardOutage(t)
	sc.Seed = 3
	sc.Phases[1].DurationDist = &scenarios.Dist{Dist: scenarios.DistUniform,
		Min: scenarios.Duration(60 * time.Second), Max: scenarios.Duration(150 * time.Second)}
	sc.Phases[1].Duration = 0
	sc.Phases[1].StartJitter = scenarios.Duration(20 * time.Second)
	want := sc.Resolve()
	if want.Phases[1].Duration == scenarios.Duration(90*time.Second) && want.Phases[0].Duration == scenarios.Duration(60*time.Second) {
		t.Fatalf("the draw reproduced the fixed timeline; pick another seed")
	}
	_, dir := playVirtual(t, sc, 0)
	lr := loadRun(t, dir)
	var at time.Duration
	for i, p := range want.Phases {
		got := phaseSpan(t, lr.header, p.Name)
		if got.Start != at || got.End != at+p.Duration.D() {
			t.Errorf("phase %d %q recorded as [%v, %v), want [%v, %v)", i, p.Name, got.Start, got.End, at, at+p.Duration.D())
		}
		at += p.Duration.D()
	}
	rec := parseScenario(t, "scenario.yaml", []byte(lr.header.ScenarioYAML))
	if rec.Phases[1].DurationDist != nil || rec.Phases[1].Duration != want.Phases[1].Duration {
		t.Errorf("recorded outage %v (dist %v), want the drawn %v", rec.Phases[1].Duration, rec.Phases[1].DurationDist, want.Phases[1].Duration)
	}
}

// TestDrainTimeoutBoundsAnInterruptedRun: after an interrupt, requests in
// flight get the drain time (WithDrainTimeout) and are then cut short, so
// a run whose upstream hangs ends that long after the stop, not when the
// hang would.
func TestDrainTimeoutBoundsAnInterruptedRun(t *testing.T) {
	sc := parseScenario(t, "hang.yaml", []byte(`
name: hang
breaker: {call_timeout: 10m}
load: {rate: 5/s, timeout: 20m}
upstream:
  latency: {ttft: {dist: fixed, value: 5m}, per_token: {dist: fixed, value: 0s}}
  tokens: 1
phases:
  - {name: only, duration: 1h}
`))
	for _, drain := range []time.Duration{time.Second, 7 * time.Second} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			start := time.Now()
			time.AfterFunc(3*time.Second, cancel)
			res, err := Run(ctx, sc, WithTimeScale(1), InMemory(), WithDrainTimeout(drain))
			if err != nil {
				t.Fatal(err)
			}
			if took, want := time.Since(start), 3*time.Second+drain; !res.Interrupted || took < want || took > want+time.Second {
				t.Errorf("drain %v: interrupted %v after %v of virtual time, want %v", drain, res.Interrupted, took, want)
			}
		})
	}
}

// parseScenario parses a scenario for a test, failing it on an error.
func parseScenario(t testing.TB, name string, src []byte) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
