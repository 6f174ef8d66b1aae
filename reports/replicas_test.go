package reports

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

// With more breakers than maxBreakerLines (replicas), the breaker panel
// counts how many are open and half-open; a breaker's first transition
// starts from closed, and transitions of unknown breakers are ignored.
func TestStateCounts(t *testing.T) {
	names := []string{"b/r1", "b/r2", "b/r3"}
	tr := func(s int, b string, from, to contract.State) recording.Transition {
		return recording.Transition{T: time.Duration(s) * time.Second, Breaker: b, From: from, To: to}
	}
	got := stateCounts([]recording.Transition{
		tr(1, "b/r1", contract.StateClosed, contract.StateOpen),
		tr(1, "b/r2", contract.StateClosed, contract.StateOpen),
		tr(2, "other", contract.StateClosed, contract.StateOpen),
		tr(3, "b/r1", contract.StateOpen, contract.StateHalfOpen),
		tr(4, "b/r1", contract.StateHalfOpen, contract.StateClosed),
	}, names)
	want := []stateCount{
		{time.Second, [3]int{stClosed: 2, stOpen: 1}},
		{time.Second, [3]int{stClosed: 1, stOpen: 2}},
		{3 * time.Second, [3]int{stClosed: 1, stHalfOpen: 1, stOpen: 1}},
		{4 * time.Second, [3]int{stClosed: 2, stOpen: 1}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(stateCount{})); diff != "" {
		t.Errorf("stateCounts (-want +got):\n%s", diff)
	}
}

// failures_before_all_open counts failed calls up to the moment the last
// breaker first opened, and is "never" while one breaker has not opened.
func TestFailuresBeforeAllOpen(t *testing.T) {
	s := int64(time.Second)
	open := func(sec int64, b string) recording.Transition {
		return recording.Transition{T: time.Duration(sec * s), Breaker: b, From: contract.StateClosed, To: contract.StateOpen}
	}
	calls := []call{{t: 1 * s, failed: true}, {t: 2 * s, failed: false}, {t: 3 * s, failed: true}, {t: 5 * s, failed: true}, {t: 9 * s, failed: true}}
	for _, tc := range []struct {
		name  string
		trs   []recording.Transition
		want  float64
		never bool
	}{
		{"both opened", []recording.Transition{open(3, "b/r1"), open(5, "b/r2"), open(8, "b/r1")}, 3, false},
		{"one never opened", []recording.Transition{open(3, "b/r1")}, 0, true},
	} {
		r := &Recording{Header: &recording.Header{Breakers: []string{"b/r1", "b/r2"}}, transitions: tc.trs, calls: calls}
		got, ok := failuresBeforeAllOpen(r)
		if ok == tc.never || (ok && got != tc.want) {
			t.Errorf("%s: failuresBeforeAllOpen = %v, %v; want %v (never %v)", tc.name, got, ok, tc.want, tc.never)
		}
	}
}

// replicaRun writes a two-replica recording: replica 1 answers from the
// upstream, replica 2 fails and its breaker opens at 5 s.
//
//	replica  requests (t, latency, outcome)     calls (t, status)   transitions
//	1        1s 10ms upstream, 3s 30ms upstream  1s 200, 3s 200      none
//	2        2s 200ms unavailable, 4s 400ms un.  2s, 4s, 5s 500      5s closed→open
func replicaRun(t *testing.T) *Recording {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	h := recording.Header{
		Scenario: "replicas", Seed: 1, TimeScale: 1,
		Phases:   []recording.PhaseSpan{{Name: "a", Start: 0, End: 10 * s}},
		Breakers: []string{"br/r1", "br/r2"},
	}
	w, err := recording.Create(dir, h)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range []recording.Request{
		{T: 1 * s, Latency: 10 * ms, Status: 200, Outcome: contract.OutcomeUpstream, Replica: 1},
		{T: 2 * s, Latency: 200 * ms, Status: 503, Outcome: contract.OutcomeUnavailable, Replica: 2},
		{T: 3 * s, Latency: 30 * ms, Status: 200, Outcome: contract.OutcomeUpstream, Replica: 1},
		{T: 4 * s, Latency: 400 * ms, Status: 503, Outcome: contract.OutcomeUnavailable, Replica: 2},
	} {
		q.Seq, q.Phase, q.Breaker = uint64(i+1), "a", contract.StateClosed
		if err := w.Request(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Transition(recording.Transition{T: 5 * s, Breaker: "br/r2", Replica: 2, From: contract.StateClosed, To: contract.StateOpen}); err != nil {
		t.Fatal(err)
	}
	for i, c := range []recording.UpstreamCall{
		{T: 1 * s, Status: 200, Replica: 1},
		{T: 2 * s, Status: 500, Replica: 2},
		{T: 3 * s, Status: 200, Replica: 1},
		{T: 4 * s, Status: 500, Replica: 2},
		{T: 5 * s, Status: 500, Replica: 2},
	} {
		c.Seq, c.Phase, c.Breaker = uint64(i+1), "a", contract.StateClosed
		if err := w.UpstreamCall(c); err != nil {
			t.Fatal(err)
		}
	}
	sc := &scenarios.Scenario{Name: "replicas", Assistant: scenarios.Assistant{Replicas: 2},
		Breaker: scenarios.Breaker{Enabled: true, Policy: "consecutive", FailThreshold: 3, CallTimeout: scenarios.Duration(30 * s)}}
	return closeAndLoad(t, w, 10*s, sc)
}

// A replica:K filter computes from replica K's requests, upstream calls
// and breaker transitions only.
func TestReplicaFilter(t *testing.T) {
	r := replicaRun(t)
	for _, tc := range []struct {
		key   string
		want  float64
		never bool
	}{
		{"requests", 4, false},
		{"requests{replica:1}", 2, false},
		{"requests{replica:2}", 2, false},
		{"latency_max{replica:1}", 0.03, false},
		{"latency_max{replica:2}", 0.4, false},
		{"latency_p50{replica:2}", 0.2, false},
		{"unavailable_ratio{replica:1}", 0, false},
		{"unavailable_ratio{replica:2}", 1, false},
		{"unavailable_ratio{replica:2,window:2s}", 1, false},
		{"upstream_calls{replica:1}", 2, false},
		{"upstream_failures{replica:1}", 0, false},
		{"upstream_failures{replica:2}", 3, false},
		{"upstream_failures{replica:2,phase:a,breaker:closed}", 3, false},
		{"breaker_opens", 1, false},
		{"breaker_opens{replica:1}", 0, false},
		{"breaker_opens{replica:2}", 1, false},
		{"open_time_ratio{replica:1}", 0, false},
		{"open_time_ratio{replica:2}", 0.5, false},
		{"time_to_open{replica:2}", 5, false},
		{"time_to_open{replica:1}", 0, true},
	} {
		v, ok, err := r.Metric(th(t, tc.key, "<"))
		switch {
		case err != nil:
			t.Errorf("%s: %v", tc.key, err)
		case ok == tc.never:
			t.Errorf("%s: never = %v, want %v", tc.key, !ok, tc.never)
		case ok && math.Abs(v-tc.want) > 1e-12:
			t.Errorf("%s = %v, want %v", tc.key, v, tc.want)
		}
	}
	for key, want := range map[string]string{
		"requests{replica:3}":                 "replica 3 is not in this run (replicas: 1 to 2)",
		"target_rps{replica:1}":               "filter replica does not apply to target_rps",
		"failures_before_all_open{replica:1}": "takes no filter",
	} {
		if _, _, err := r.Metric(th(t, key, "<")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", key, err, want)
		}
	}
}

// In a one-replica run the records carry no replica: replica:1 is every
// record, and replica:2 is refused.
func TestReplicaFilterOneReplica(t *testing.T) {
	r := handRun(t)
	for _, key := range []string{"requests", "upstream_failures", "breaker_opens", "open_time_ratio"} {
		all, _, err := r.Metric(th(t, key, "<"))
		if err != nil {
			t.Fatal(err)
		}
		one, _, err := r.Metric(th(t, key+"{replica:1}", "<"))
		if err != nil || one != all {
			t.Errorf("%s{replica:1} = %v, %v; want the whole run's %v", key, one, err, all)
		}
	}
	if _, _, err := r.Metric(th(t, "requests{replica:2}", "<")); err == nil || !strings.Contains(err.Error(), "replica 2 is not in this run (replicas: 1 to 1)") {
		t.Errorf("requests{replica:2} on a one-replica run: %v", err)
	}
}
