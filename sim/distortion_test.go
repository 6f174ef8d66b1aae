package sim

import (
	"math"
	"strings"
	"testing"
	"time"

	"brownout/contract"
	"brownout/faults"
	"brownout/recording"
	"brownout/scenarios"
)

// TestHalfOpenLateness: an open breaker should turn half-open when the
// first request due at or after its reset timeout's expiry reaches it;
// lateness is measured from that request's due time, never negative.
func TestHalfOpenLateness(t *testing.T) {
	pacer, err := NewPhasePacer([]RateSegment{{Duration: 10 * time.Second, Pattern: "constant", Rate: 10}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, tc := range []struct {
		name        string
		expiry, got time.Duration
		late        time.Duration
		ok          bool
	}{
		{"on the next request", 1050 * time.Millisecond, 1100 * time.Millisecond, 0, true},
		{"50 ms after it", 1050 * time.Millisecond, 1150 * time.Millisecond, 50 * time.Millisecond, true},
		{"a request due at the expiry", 1100 * time.Millisecond, 1130 * time.Millisecond, 30 * time.Millisecond, true},
		{"a late request came early", 1050 * time.Millisecond, 1060 * time.Millisecond, 0, true},
		{"expired before the start", -time.Second, 300 * time.Millisecond, 200 * time.Millisecond, true},
		{"no request after the expiry", 11 * time.Second, 12 * time.Second, 0, false},
	} {
		late, ok := halfOpenLateness(pacer, t0, at(tc.expiry), at(tc.got))
		if ok != tc.ok || (ok && late.Round(time.Microsecond) != tc.late) {
			t.Errorf("%s: lateness %v, %v; want %v, %v", tc.name, late, ok, tc.late, tc.ok)
		}
	}
}

// TestDistortionFlagsLateRequestsAndBreaker: a compressed run whose
// requests were sent late, or whose breaker turned half-open late, by more
// than the tolerance is distorted and says why; within it, it is not.
func TestDistortionFlagsLateRequestsAndBreaker(t *testing.T) {
	sc := meterScenario(t)
	const k = 10
	real := sc.Scaled(k)
	pacer, err := NewPhasePacer(rateSegments(real))
	if err != nil {
		t.Fatal(err)
	}
	h := &recording.Header{Phases: []recording.PhaseSpan{{Name: "only", End: 60 * time.Second}}}
	// Tolerance: a tenth of the 5 s call timeout, 500 ms of scenario time,
	// 50 ms of real time at K=10.
	for _, tc := range []struct {
		name                    string
		lag, breakerLate, local time.Duration // real
		want                    string
	}{
		{"on time", time.Millisecond, 10 * time.Millisecond, 5 * time.Millisecond, ""},
		{"requests late", 60 * time.Millisecond, 10 * time.Millisecond, 5 * time.Millisecond, "sent requests 600ms late"},
		{"breaker late", time.Millisecond, 60 * time.Millisecond, 5 * time.Millisecond, "turned half-open up to 600ms after"},
		// 60 ms of real work weighs 9 × 60 ms more at K=10
		{"slow local work", time.Millisecond, 10 * time.Millisecond, 60 * time.Millisecond, "weighs 540ms in scenario time"},
	} {
		m := newDistortionMeter(real, k, false)
		m.timeBreaker("b", real.Breaker.ResetTimeout.D())
		t0 := time.Unix(1000, 0)
		m.start(t0, pacer)
		n := int(pacer.hitsAt)
		for i := range n {
			m.request("only", tc.lag*time.Duration(i%2)) // half the requests on time, half late
			m.localWork(tc.local * time.Duration(i%2))
		}
		opened := t0.Add(time.Second)
		m.transition(Transition{Breaker: "b", From: contract.StateClosed, To: contract.StateOpen, At: opened})
		m.transition(Transition{Breaker: "other", From: contract.StateOpen, To: contract.StateHalfOpen, At: opened.Add(5 * time.Second)})
		// 1 s + 1 s of reset timeout: a request is due at 2 s exactly.
		m.transition(Transition{Breaker: "b", From: contract.StateOpen, To: contract.StateHalfOpen, At: t0.Add(2*time.Second + tc.breakerLate)})
		d := m.finish(sc, h, pacer, pacer.Duration())
		if d.BreakerTimers != 1 || d.BreakerLatenessMax.Round(time.Millisecond) != k*tc.breakerLate || d.SendLagP99 != k*tc.lag ||
			d.LocalWorkP99 != tc.local || d.LocalWorkShift != (k-1)*tc.local {
			t.Errorf("%s: breaker %d × %v, send lag %v, local work %v (%v); want 1 × %v, %v, %v (%v)", tc.name, d.BreakerTimers, d.BreakerLatenessMax,
				d.SendLagP99, d.LocalWorkP99, d.LocalWorkShift, k*tc.breakerLate, k*tc.lag, tc.local, (k-1)*tc.local)
		}
		if tc.want == "" {
			if d.Distorted {
				t.Errorf("%s: distorted: %q", tc.name, d.Reasons)
			}
			continue
		}
		if !d.Distorted || len(d.Reasons) != 1 || !strings.Contains(d.Reasons[0], tc.want) {
			t.Errorf("%s: reasons %q, want one with %q", tc.name, d.Reasons, tc.want)
		}
	}
}

// TestFakeSideJudgesExternalCalls: for an external target, whose side of
// its upstream calls is not seen, the fake's log alone decides: a call the
// caller left before its planned delay and within the call timeout is a
// contention timeout, a hang past the timeout is not, a completed call's
// overhead is the (lower-bound) slowdown, and health checks do not count.
func TestFakeSideJudgesExternalCalls(t *testing.T) {
	sc := meterScenario(t)
	const k = 10
	real := sc.Scaled(k) // call timeout 500 ms of real time
	m := newDistortionMeter(real, k, false)
	m.fakeSide(&faults.Call{Route: "chat", RequestID: "early", Delay: time.Second, Duration: time.Millisecond, GotSlot: true, Status: 200})
	m.seeFakeSideOnly()
	for _, c := range []faults.Call{
		{Route: "chat", Status: 200, Delay: 100 * time.Millisecond, Duration: 110 * time.Millisecond, GotSlot: true},
		{Route: "generate", Delay: 50 * time.Millisecond, Duration: 20 * time.Millisecond, GotSlot: true}, // left early: contention
		{Route: "chat", Fault: "hang", Delay: time.Hour, Duration: 500 * time.Millisecond, GotSlot: true}, // the call timeout, as planned
		{Route: "health", Status: 200, Delay: time.Second, Duration: time.Millisecond, GotSlot: true},
	} {
		m.fakeSide(&c)
	}
	pacer, err := NewPhasePacer(rateSegments(real))
	if err != nil {
		t.Fatal(err)
	}
	d := m.finish(sc, &recording.Header{}, pacer, pacer.Duration())
	if d.UpstreamCalls != 3 || d.TimedOutCalls != 2 || d.ContentionTimeouts != 1 || math.Abs(d.UpstreamSlowdown-0.09) > 1e-9 {
		t.Errorf("calls %d, timed out %d, contention %d, slowdown %v; want 3, 2, 1, 0.09", d.UpstreamCalls, d.TimedOutCalls, d.ContentionTimeouts, d.UpstreamSlowdown)
	}
	if !d.Distorted || !strings.Contains(strings.Join(d.Reasons, "; "), "1 of 3 upstream calls timed out") {
		t.Errorf("reasons %q, want the contention timeout", d.Reasons)
	}
}

// meterScenario is one minute of 10 requests/s with a 5 s call timeout
// and a 10 s reset timeout: a 500 ms tolerance.
func meterScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc := parseScenario(t, "t.yaml", []byte(`
name: t
breaker: {reset_timeout: 10s, call_timeout: 5s}
load: {rate: 10/s, timeout: 20s}
phases:
  - {name: only, duration: 60s}
`))
	return sc
}
