package sim

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"brownout/contract"
	"brownout/redisstore/redistest"
	"brownout/scenarios"
)

// The hard outage plays the same with the breaker's state in the embedded
// Redis as in memory: the invariants hold, and the state is the replica's
// view of the shared one.
func TestHardOutageSharedStoreVirtualTime(t *testing.T) {
	sc := hardOutage(t)
	sc.Breaker.Store = scenarios.StoreRedis
	res, dir := playVirtual(t, sc, 0)
	if len(res.Warnings) > 0 {
		t.Errorf("warnings: %q", res.Warnings)
	}
	lr := loadRun(t, dir)
	checkBreakerInvariants(t, sc, lr, true)
	if !strings.Contains(lr.header.ScenarioYAML, "store: redis") {
		t.Errorf("the recorded scenario does not say store: redis:\n%s", lr.header.ScenarioYAML)
	}
}

// Over loopback, with the embedded server and with a real redis-server.
func TestLoopbackRunSharedStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"embedded", func(*testing.T) string { return "" }},
		{"real", func(t *testing.T) string {
			c := redistest.Real(t)
			if c == nil {
				t.Skip("no real redis-server (see above)")
			}
			return "redis://" + c.Options().Addr
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url(t)
			sc := parseScenario(t, "short-outage.yaml", []byte(shortOutage))
			sc.Breaker.Store = scenarios.StoreRedis
			dir := filepath.Join(t.TempDir(), "run")
			opts := []Option{WithOutDir(dir)}
			if url != "" {
				opts = append(opts, WithRedis(url))
			}
			res, err := Run(context.Background(), sc, opts...)
			if err != nil {
				t.Fatal(err)
			}
			// Over real sockets under -race on a busy machine, a count can
			// wait longer than this scenario's 500 ms call timeout for the
			// lock, which the run reports as a store failure: that measures
			// the machine, so it is logged here; the virtual-time test
			// above requires none.
			for _, w := range res.Warnings {
				t.Logf("warning: %s", w)
			}
			lr := loadRun(t, dir)
			opens := 0
			for _, tr := range lr.transitions {
				if tr.To == contract.StateOpen {
					opens++
				}
			}
			if opens == 0 {
				t.Error("the shared breaker never opened during a 2 s hard outage")
			}
		})
	}
}

func TestSharedStoreUnreachableFailsAtStart(t *testing.T) {
	sc := parseScenario(t, "short-outage.yaml", []byte(shortOutage))
	sc.Breaker.Store = scenarios.StoreRedis
	_, err := Run(context.Background(), sc, WithRedis("redis://127.0.0.1:1"))
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Run with an unreachable Redis: %v, want an error at start saying it is unreachable", err)
	}
}

// replicasOutage has calls fail at once and arrive one at a time, so that
// no call is in flight when a breaker trips: the counts are exact.
const replicasOutage = `
name: replicas
seed: 3
breaker: {fail_threshold: 5, reset_timeout: 30s}
assistant: {replicas: 4}
load: {rate: 4/s}
upstream:
  latency: {ttft: {dist: fixed, value: 20ms}, per_token: {dist: fixed, value: 0s}}
  tokens: 8
phases:
  - {name: healthy, duration: 10s}
  - name: outage
    duration: 20s
    faults: [{kind: status, code: 500}]
  - {name: recovery, duration: 10s}
`

// With 4 replicas in a hard outage, each local breaker lets its own
// fail_threshold failures through before it trips; the shared one lets
// fail_threshold through for all of them (plus calls in flight at the
// trip). Each replica's breaker has its own name in the recording, and no
// upstream call leaves a replica whose breaker is open.
func TestReplicasHardOutage(t *testing.T) {
	for _, tc := range []struct {
		store    string
		min, max int // failures that reached the upstream before every replica had tripped
	}{
		{scenarios.StoreLocal, 20, 20},
		{scenarios.StoreRedis, 5, 5},
	} {
		t.Run(tc.store, func(t *testing.T) {
			sc := parseScenario(t, "replicas.yaml", []byte(replicasOutage))
			sc.Breaker.Store = tc.store
			_, dir := playVirtual(t, sc, 0)
			lr := loadRun(t, dir)
			want := []string{"huggingface_api/r1", "huggingface_api/r2", "huggingface_api/r3", "huggingface_api/r4"}
			if fmt.Sprint(lr.header.Breakers) != fmt.Sprint(want) {
				t.Errorf("breakers %q, want %q", lr.header.Breakers, want)
			}
			opened := map[string]time.Duration{}
			for _, tr := range lr.transitions {
				if _, ok := opened[tr.Breaker]; !ok && tr.To == contract.StateOpen {
					opened[tr.Breaker] = tr.T
				}
			}
			if len(opened) != 4 {
				t.Fatalf("replicas that opened: %v, want all 4", opened)
			}
			allOpen := slices.Max(slices.Collect(maps.Values(opened)))
			failures := 0
			for _, c := range lr.calls {
				if c.Failed() && c.T <= allOpen {
					failures++
				}
				if c.Breaker == contract.StateOpen {
					t.Errorf("upstream call sent by a replica whose breaker was open: %+v", c)
				}
			}
			if failures < tc.min || failures > tc.max {
				t.Errorf("%d failures reached the upstream before every replica had tripped, want %d to %d", failures, tc.min, tc.max)
			}
			checkReplicaStamps(t, lr, 4, tc.store == scenarios.StoreLocal, 5)
		})
	}
}

// checkReplicaStamps checks that every record of a run with n replicas
// names its replica (from 1): a transition the one of its breaker's
// name, requests spread evenly by the round robin, and upstream calls from
// every replica. With local breakers, each replica's failed calls before
// its own breaker first opened are exactly its own threshold, which holds
// only if each call names the replica that sent it.
func checkReplicaStamps(t *testing.T, lr *loadedRun, n int, local bool, threshold int) {
	t.Helper()
	firstOpen := map[int]time.Duration{}
	for _, tr := range lr.transitions {
		if want := fmt.Sprintf("/r%d", tr.Replica); tr.Replica < 1 || tr.Replica > n || !strings.HasSuffix(tr.Breaker, want) {
			t.Errorf("transition of %q has replica %d", tr.Breaker, tr.Replica)
		}
		if _, ok := firstOpen[tr.Replica]; !ok && tr.To == contract.StateOpen {
			firstOpen[tr.Replica] = tr.T
		}
	}
	perReplica := make([]int, n+1)
	for _, r := range lr.requests {
		if r.Replica < 1 || r.Replica > n {
			t.Fatalf("request %d has replica %d, want 1 to %d", r.Seq, r.Replica, n)
		}
		perReplica[r.Replica]++
	}
	for k := 1; k <= n; k++ {
		if d := perReplica[k] - len(lr.requests)/n; d < -1 || d > 1 {
			t.Errorf("requests per replica %v, want an even round robin of %d", perReplica[1:], len(lr.requests))
			break
		}
	}
	calls, failedBeforeOpen := make([]int, n+1), make([]int, n+1)
	for _, c := range lr.calls {
		if c.Replica < 1 || c.Replica > n {
			t.Fatalf("upstream call %d has replica %d, want 1 to %d", c.Seq, c.Replica, n)
		}
		calls[c.Replica]++
		if open, ok := firstOpen[c.Replica]; ok && c.Failed() && c.T <= open {
			failedBeforeOpen[c.Replica]++
		}
	}
	for k := 1; k <= n; k++ {
		if calls[k] == 0 {
			t.Errorf("no upstream call from replica %d: %v", k, calls[1:])
		}
		if local && failedBeforeOpen[k] != threshold {
			t.Errorf("replica %d: %d failed calls before its breaker opened, want its own fail_threshold %d (all: %v)", k, failedBeforeOpen[k], threshold, failedBeforeOpen[1:])
		}
	}
}
