package sim

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

// localWork is what the assistant's own work takes in these tests: real
// work that time compression does not shorten.
const localWork = 3 * time.Millisecond

// slowAssistant gives every request localWork of local time before the
// assistant handles it.
func slowAssistant(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(localWork) // stands for CPU work, in virtual time
		h.ServeHTTP(w, r)
	})
}

// latencyScenario has every upstream call wait ttft, or fail at once when
// failing is set.
func latencyScenario(t *testing.T, ttft string, failing bool) *scenarios.Scenario {
	t.Helper()
	faults := ""
	if failing {
		faults = "\n    faults: [{kind: status, code: 500}]"
	}
	src := fmt.Sprintf(`
name: latency-split
seed: 3
breaker: {enabled: false}
load: {rate: 20/s, timeout: 5s, repeat_ratio: 0}
upstream:
  latency: {ttft: {dist: fixed, value: %s}, per_token: {dist: fixed, value: 0s}}
  tokens: 4
phases:
  - name: only
    duration: 2s%s
`, ttft, faults)
	sc := parseScenario(t, "latency-split.yaml", []byte(src))
	return sc
}

// playScaled plays sc in memory at time scale k with slowAssistant and
// returns its request records.
func playScaled(t *testing.T, sc *scenarios.Scenario, k float64) []recording.Request {
	t.Helper()
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("k%g", k))
	synctest.Test(t, func(t *testing.T) {
		if _, err := Run(context.Background(), sc, WithOutDir(dir), WithTimeScale(k), InMemory(), withAssistantWrapper(slowAssistant)); err != nil {
			t.Fatal(err)
		}
	})
	return loadRun(t, dir).requests
}

// TestScenarioLatencyScalesOnlySimulatedWaits checks the latency
// correction in virtual time, where durations are exact: a request whose
// only work is local reads the same at K=1 and K=50, and one that waited
// 900 ms on the upstream reads 900 ms plus its local work at any K.
func TestScenarioLatencyScalesOnlySimulatedWaits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ttft    string
		failing bool
		want    time.Duration
		// local is the part of want that is not simulated.
		local time.Duration
	}{
		{"local work only", "0s", true, localWork, localWork},
		{"900ms upstream wait", "900ms", false, 900*time.Millisecond + localWork, localWork},
		// The load client gives up after its 5 s timeout: all simulated.
		{"client timeout", "10s", false, 5 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := latencyScenario(t, tc.ttft, tc.failing)
			for _, k := range []float64{1, 50} {
				reqs := playScaled(t, sc, k)
				if len(reqs) < 30 {
					t.Fatalf("K=%g: only %d requests", k, len(reqs))
				}
				for _, r := range reqs {
					if r.Latency != tc.want {
						t.Fatalf("K=%g: request %d (%s) latency %v, want %v", k, r.Seq, r.Outcome, r.Latency, tc.want)
					}
					wantReal := time.Duration(0)
					if k != 1 {
						wantReal = tc.local + time.Duration(float64(tc.want-tc.local)/k)
					}
					if r.RealLatency != wantReal {
						t.Fatalf("K=%g: request %d real latency %v, want %v", k, r.Seq, r.RealLatency, wantReal)
					}
				}
			}
		})
	}
}
