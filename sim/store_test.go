package sim

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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
			sc, err := scenarios.Parse("short-outage.yaml", []byte(shortOutage))
			if err != nil {
				t.Fatal(err)
			}
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
			if len(res.Warnings) > 0 {
				t.Errorf("warnings: %q", res.Warnings)
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
	sc, err := scenarios.Parse("short-outage.yaml", []byte(shortOutage))
	if err != nil {
		t.Fatal(err)
	}
	sc.Breaker.Store = scenarios.StoreRedis
	_, err = Run(context.Background(), sc, WithRedis("redis://127.0.0.1:1"))
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Run with an unreachable Redis: %v, want an error at start saying it is unreachable", err)
	}
}
