package reports

import "testing"

// TestSuiteWorst: the suite's exit status is its worst scenario's, and
// scenarios another shard plays do not count.
func TestSuiteWorst(t *testing.T) {
	for _, tc := range []struct {
		statuses []string
		want     int
	}{
		{nil, 0},
		{[]string{SuitePass, SuitePass}, 0},
		{[]string{SuitePass, SuiteFail}, 1},
		{[]string{SuiteFail, SuiteDistorted, SuitePass}, 3},
		{[]string{SuiteDistorted, SuiteInvalid, SuiteFail}, 2},
		{[]string{SuiteError, SuitePass}, 2},
		{[]string{SuiteInvalid, SuiteInterrupted}, 130},
		{[]string{SuitePass, SuiteNotRun}, 130},
		{[]string{SuitePass, SuiteOtherShard}, 0},
	} {
		var s Suite
		for _, st := range tc.statuses {
			s.Entries = append(s.Entries, SuiteEntry{Name: st, Status: st})
		}
		if got := s.Worst(); got != tc.want {
			t.Errorf("%v: Worst() = %d, want %d", tc.statuses, got, tc.want)
		}
	}
}
