//go:build !race

// The race detector slows the whole chain several times over, and this test
// measures behaviour at real speed over real sockets; `make test` runs it in
// a separate pass without -race.

package sim

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"brownout/contract"
)

// outcomeShares returns, per phase, the share of each outcome.
func outcomeShares(lr *loadedRun) map[string]map[contract.Outcome]float64 {
	counts := map[string]map[contract.Outcome]int{}
	totals := map[string]int{}
	for _, r := range lr.requests {
		if counts[r.Phase] == nil {
			counts[r.Phase] = map[contract.Outcome]int{}
		}
		counts[r.Phase][r.Outcome]++
		totals[r.Phase]++
	}
	out := map[string]map[contract.Outcome]float64{}
	for p, m := range counts {
		out[p] = map[contract.Outcome]float64{}
		for o, n := range m {
			out[p][o] = float64(n) / float64(totals[p])
		}
	}
	return out
}

func transitionSequence(lr *loadedRun) string {
	var b strings.Builder
	for _, tr := range lr.transitions {
		fmt.Fprintf(&b, "%s→%s ", tr.From, tr.To)
	}
	return b.String()
}

// TestTimeCompressionAgrees plays hard-outage over real loopback sockets at
// two time scales: the per-phase outcome shares must agree within 3
// percentage points and the breaker must go through the same transitions.
// Each run also has to satisfy the breaker's invariants.
func TestTimeCompressionAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 34 s of wall time")
	}
	sc := hardOutage(t)
	runs := map[float64]*loadedRun{}
	for _, k := range []float64{10, 40} {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("k%g", k))
		if _, err := Run(context.Background(), sc, WithOutDir(dir), WithTimeScale(k)); err != nil {
			t.Fatalf("K=%g: %v", k, err)
		}
		runs[k] = loadRun(t, dir)
		t.Run(fmt.Sprintf("invariants K=%g", k), func(t *testing.T) { checkBreakerInvariants(t, sc, runs[k], false) })
	}
	a, b := runs[10], runs[40]
	if sa, sb := transitionSequence(a), transitionSequence(b); sa != sb {
		t.Errorf("transitions differ:\nK=10: %s\nK=40: %s", sa, sb)
	}
	sa, sb := outcomeShares(a), outcomeShares(b)
	worst := 0.0
	for _, p := range sc.Phases {
		for _, o := range contract.Outcomes {
			d := math.Abs(sa[p.Name][o] - sb[p.Name][o])
			worst = max(worst, d)
			if d > 0.03 {
				t.Errorf("phase %s, outcome %s: %.1f%% at K=10 vs %.1f%% at K=40", p.Name, o, 100*sa[p.Name][o], 100*sb[p.Name][o])
			}
		}
	}
	t.Logf("transitions: %s; largest per-phase outcome difference: %.2f percentage points", transitionSequence(a), 100*worst)
}
