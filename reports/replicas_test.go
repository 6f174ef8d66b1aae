package reports

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"brownout/contract"
	"brownout/recording"
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
