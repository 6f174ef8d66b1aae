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
	"slices"
	"strings"
	"testing"
	"time"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
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

// fallbackLatencies returns, per phase, the sorted scenario latencies of
// fallback answers (cache and excerpts): local work only.
func fallbackLatencies(lr *loadedRun) map[string][]time.Duration {
	out := map[string][]time.Duration{}
	for _, r := range lr.requests {
		if r.Outcome == contract.OutcomeCache || r.Outcome == contract.OutcomeExcerpts {
			out[r.Phase] = append(out[r.Phase], r.Latency)
		}
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// Tolerances of the agreement: outcome shares per phase in percentage
// points, and fallback latency percentiles (local work, real at any K),
// which may differ by the larger of an absolute and a relative margin.
const (
	maxShareDiff      = 0.03
	maxLatencyDiffAbs = 10 * time.Millisecond
	maxLatencyDiffRel = 0.30
)

// disagreements compares a run at a high time scale with one at a low
// one: transitions, outcome shares per phase, fallback latency
// percentiles.
func disagreements(sc *scenarios.Scenario, lo, hi *loadedRun, klo, khi float64) []string {
	var out []string
	if a, b := transitionSequence(lo), transitionSequence(hi); a != b {
		out = append(out, fmt.Sprintf("transitions differ:\nK=%g: %s\nK=%g: %s", klo, a, khi, b))
	}
	sa, sb := outcomeShares(lo), outcomeShares(hi)
	for _, p := range sc.Phases {
		for _, o := range contract.Outcomes {
			if d := math.Abs(sa[p.Name][o] - sb[p.Name][o]); d > maxShareDiff {
				out = append(out, fmt.Sprintf("phase %s, outcome %s: %.1f%% at K=%g vs %.1f%% at K=%g", p.Name, o, 100*sa[p.Name][o], klo, 100*sb[p.Name][o], khi))
			}
		}
	}
	la, lb := fallbackLatencies(lo), fallbackLatencies(hi)
	for _, p := range sc.Phases {
		a, b := la[p.Name], lb[p.Name]
		if len(a) < 20 || len(b) < 20 {
			continue
		}
		for _, q := range []float64{0.5, 0.95} {
			x, y := percentile(a, q), percentile(b, q)
			d := x - y
			if d < 0 {
				d = -d
			}
			if d > maxLatencyDiffAbs && float64(d) > maxLatencyDiffRel*float64(max(x, y)) {
				out = append(out, fmt.Sprintf("phase %s: fallback latency p%g %v at K=%g vs %v at K=%g", p.Name, 100*q, x, klo, y, khi))
			}
		}
	}
	return out
}

// TestTimeCompressionAgrees plays hard-outage and latency-brownout over
// real loopback sockets at K=5 and K=50: the breaker must go through the
// same transitions, the per-phase outcome shares must agree within 3
// percentage points and the fallback latency percentiles within
// maxLatencyDiffAbs or maxLatencyDiffRel. A run at K=50 that this machine
// cannot keep up with must be flagged as distorted; what the test refuses
// is a disagreement that was not flagged. A deliberately impossible scale
// (hard-outage at 1000, 40,000 requests per second) must be flagged.
// Wall time: about 2 minutes (54 s + 48 s at K=5).
func TestTimeCompressionAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("plays about 2 minutes of wall time")
	}
	const klo, khi = 5, 50
	for _, name := range []string{"hard-outage", "latency-brownout"} {
		t.Run(name, func(t *testing.T) {
			sc, err := scenarios.Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			runs := map[float64]*loadedRun{}
			distortion := map[float64]*recording.Distortion{}
			for _, k := range []float64{klo, khi} {
				dir := filepath.Join(t.TempDir(), fmt.Sprintf("k%g", k))
				res, err := Run(context.Background(), sc, WithOutDir(dir), WithTimeScale(k))
				if err != nil {
					t.Fatalf("K=%g: %v", k, err)
				}
				runs[k], distortion[k] = loadRun(t, dir), res.Distortion
				t.Logf("K=%g: distortion %+v", k, *res.Distortion)
			}
			if d := distortion[klo]; d.Distorted {
				t.Fatalf("the reference run at K=%g is distorted, nothing to compare with: %v", float64(klo), d.Reasons)
			}
			if name == "hard-outage" {
				checkBreakerInvariants(t, sc, runs[klo], false)
			}
			diffs := disagreements(sc, runs[klo], runs[khi], klo, khi)
			switch d := distortion[khi]; {
			case d.Distorted:
				t.Logf("K=%g is flagged as distorted (%v), so agreement is not expected; %d disagreements: %v", float64(khi), d.Reasons, len(diffs), diffs)
			case len(diffs) > 0:
				for _, msg := range diffs {
					t.Error(msg)
				}
				t.Errorf("K=%g disagrees with K=%g and was not flagged as distorted", float64(khi), float64(klo))
			default:
				t.Logf("K=%g agrees with K=%g: transitions %s", float64(khi), float64(klo), transitionSequence(runs[klo]))
			}
		})
	}
	t.Run("impossible scale is flagged", func(t *testing.T) {
		sc, err := scenarios.Builtin("hard-outage")
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), sc, WithTimeScale(1000))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Distortion.Distorted {
			t.Errorf("hard-outage at K=1000 (40,000 requests/s) not flagged: %+v", *res.Distortion)
		}
		t.Logf("K=1000: %v", res.Distortion.Reasons)
	})
}
