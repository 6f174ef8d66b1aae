package assistant

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"brownout/contract"

	"github.com/google/go-cmp/cmp"
)

// These tests run the real gobreaker with the seed's real 60 s reset
// timeout inside a synctest bubble, where time.Now is virtual: minutes of
// breaker time pass in microseconds, and every instant is exact.

const failBody = `{"error":"Model test-org/test-model is currently loading","estimated_time":20.0}`

func stateOf(t *testing.T, s *Service) contract.State {
	t.Helper()
	return health(t, s).CircuitBreaker.State
}

func TestBreakerOpensAfterExactlyThreshold(t *testing.T) {
	for _, threshold := range []uint32{1, 3, 5, 10} {
		t.Run(fmt.Sprint(threshold), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				up := &upstream{}
				up.set(503, failBody)
				cfg := testConfig()
				cfg.Breaker.FailThreshold = threshold
				var log transitionLog
				s := newTestService(t, cfg, up, WithObserver(log.record))
				for i := uint32(1); i < threshold; i++ {
					a := answerOf(t, ask(t, s, onTopic))
					if a.Metadata.FallbackReason != contract.ReasonUpstreamError {
						t.Fatalf("failure %d: reason %q, want upstream_error", i, a.Metadata.FallbackReason)
					}
					if st := stateOf(t, s); st != contract.StateClosed {
						t.Fatalf("after %d of %d failures: state %s, want closed", i, threshold, st)
					}
					time.Sleep(time.Second)
				}
				ask(t, s, onTopic)
				openedAt := time.Now()
				if st := stateOf(t, s); st != contract.StateOpen {
					t.Fatalf("after %d failures: state %s, want open", threshold, st)
				}
				if got := up.calls.Load(); got != int64(threshold) {
					t.Errorf("upstream calls = %d, want %d", got, threshold)
				}
				want := []Transition{{Breaker: "huggingface_api", From: contract.StateClosed, To: contract.StateOpen, At: openedAt}}
				if got := log.all(); !cmp.Equal(got, want) {
					t.Errorf("transitions = %v, want %v", got, want)
				}
			})
		})
	}
}

// tripped returns a Service whose breaker (threshold 5, reset 60 s) has
// just opened, with the transition log and the upstream.
func tripped(t *testing.T) (*Service, *upstream, *transitionLog, time.Time) {
	t.Helper()
	up := &upstream{}
	up.set(503, failBody)
	log := &transitionLog{}
	s := newTestService(t, testConfig(), up, WithObserver(log.record))
	for range DefaultFailThreshold {
		ask(t, s, onTopic)
	}
	if st := stateOf(t, s); st != contract.StateOpen {
		t.Fatalf("state %s after %d failures, want open", st, DefaultFailThreshold)
	}
	return s, up, log, time.Now()
}

func TestBreakerOpenLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, up, log, openedAt := tripped(t)

		// While open: no upstream call at all, and retry_after counts down.
		calls := up.calls.Load()
		for _, tc := range []struct {
			at   time.Duration // since opening
			want int
		}{
			{0, 60},
			{500 * time.Millisecond, 60},
			{time.Second, 59},
			{30*time.Second + 1, 30},
			{59 * time.Second, 1},
			{59*time.Second + 999*time.Millisecond, 1},
			{60 * time.Second, 1},
		} {
			time.Sleep(time.Until(openedAt.Add(tc.at)))
			u := checkUnavailable(t, ask(t, s, offTopic))
			if u.RetryAfter != tc.want || u.CircuitStatus.State != contract.StateOpen {
				t.Errorf("at +%v: retry_after = %d (state %s), want %d (open)", tc.at, u.RetryAfter, u.CircuitStatus.State, tc.want)
			}
			if a := answerOf(t, ask(t, s, onTopic)); a.Metadata.FallbackReason != contract.ReasonCircuitOpen {
				t.Errorf("at +%v: reason %q, want circuit_breaker_open", tc.at, a.Metadata.FallbackReason)
			}
		}
		if got := up.calls.Load(); got != calls {
			t.Fatalf("%d upstream calls while open, want 0", got-calls)
		}
		// At exactly the reset timeout gobreaker is still open; just after, half-open.
		if st := stateOf(t, s); st != contract.StateOpen {
			t.Errorf("at +60s: state %s, want open", st)
		}
		time.Sleep(time.Nanosecond)
		if st := stateOf(t, s); st != contract.StateHalfOpen {
			t.Fatalf("at +60s+1ns: state %s, want half-open", st)
		}
		halfOpenAt := time.Now()

		// A failed probe re-opens it for another full reset timeout.
		if a := answerOf(t, ask(t, s, onTopic)); a.Metadata.FallbackReason != contract.ReasonUpstreamError {
			t.Errorf("failed probe: reason %q, want upstream_error", a.Metadata.FallbackReason)
		}
		if got := up.calls.Load(); got != calls+1 {
			t.Errorf("probe calls = %d, want 1", got-calls)
		}
		reopenedAt := time.Now()
		if u := checkUnavailable(t, ask(t, s, offTopic)); u.RetryAfter != 60 || u.CircuitStatus.State != contract.StateOpen {
			t.Errorf("after failed probe: %+v", u)
		}
		time.Sleep(59 * time.Second)
		if st := stateOf(t, s); st != contract.StateOpen {
			t.Errorf("59 s after re-opening: state %s, want open", st)
		}
		if got := up.calls.Load(); got != calls+1 {
			t.Errorf("calls while re-opened = %d, want 0", got-calls-1)
		}

		// A successful probe closes it.
		up.set(200, "")
		time.Sleep(time.Second + time.Nanosecond)
		if got := classify(t, ask(t, s, onTopic)); got != contract.OutcomeUpstream {
			t.Errorf("successful probe: outcome %s, want upstream", got)
		}
		closedAt := time.Now()
		if st := stateOf(t, s); st != contract.StateClosed {
			t.Errorf("after a successful probe: state %s, want closed", st)
		}

		want := []Transition{
			{"huggingface_api", contract.StateClosed, contract.StateOpen, openedAt},
			{"huggingface_api", contract.StateOpen, contract.StateHalfOpen, halfOpenAt},
			{"huggingface_api", contract.StateHalfOpen, contract.StateOpen, reopenedAt},
			{"huggingface_api", contract.StateOpen, contract.StateHalfOpen, closedAt},
			{"huggingface_api", contract.StateHalfOpen, contract.StateClosed, closedAt},
		}
		if got := log.all(); !cmp.Equal(got, want) {
			t.Errorf("transitions:\n got %v\nwant %v", got, want)
		}
		if d := halfOpenAt.Sub(openedAt); d != 60*time.Second+time.Nanosecond {
			t.Errorf("open for %v, want 60s+1ns", d)
		}
	})
}

func TestBreakerHalfOpenAdmitsOneProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, up, _, openedAt := tripped(t)
		up.set(200, "")
		up.setDelay(10 * time.Second) // a slow but successful probe
		time.Sleep(time.Until(openedAt.Add(60*time.Second + time.Nanosecond)))
		calls := up.calls.Load()

		var wg sync.WaitGroup
		var probe contract.Outcome
		wg.Go(func() { probe = classify(t, ask(t, s, onTopic)) })
		time.Sleep(time.Second)
		synctest.Wait()
		// The probe is in flight: others are rejected, and told to retry
		// when the probe must be over (call timeout 30 s, 1 s elapsed).
		if a := answerOf(t, ask(t, s, onTopic)); a.Metadata.FallbackReason != contract.ReasonCircuitOpen {
			t.Errorf("during probe: reason %q, want circuit_breaker_open", a.Metadata.FallbackReason)
		}
		u := checkUnavailable(t, ask(t, s, offTopic))
		if u.RetryAfter != 29 || u.CircuitStatus.State != contract.StateHalfOpen {
			t.Errorf("during probe: retry_after %d (state %s), want 29 (half-open)", u.RetryAfter, u.CircuitStatus.State)
		}
		wg.Wait()
		if probe != contract.OutcomeUpstream {
			t.Errorf("probe outcome %s, want upstream", probe)
		}
		if got := up.calls.Load() - calls; got != 1 {
			t.Errorf("calls during half-open = %d, want 1", got)
		}
		if st := stateOf(t, s); st != contract.StateClosed {
			t.Errorf("state %s, want closed", st)
		}
	})
}

func TestBreakerHalfOpenMaxRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &upstream{}
		up.set(503, failBody)
		cfg := testConfig()
		cfg.Breaker.FailThreshold = 1
		cfg.Breaker.HalfOpenMaxRequests = 3
		s := newTestService(t, cfg, up)
		ask(t, s, onTopic)
		up.set(200, "")
		time.Sleep(61 * time.Second)
		for i := 1; i <= 3; i++ {
			if got := classify(t, ask(t, s, onTopic)); got != contract.OutcomeUpstream {
				t.Fatalf("probe %d: %s", i, got)
			}
			want := contract.StateHalfOpen
			if i == 3 {
				want = contract.StateClosed
			}
			if st := stateOf(t, s); st != want {
				t.Errorf("after %d successful probes: state %s, want %s", i, st, want)
			}
		}
	})
}

// ratioConfig is testConfig with the ratio policy.
func ratioConfig(ratio float64, minRequests uint32) Config {
	cfg := testConfig()
	cfg.Breaker.Policy = PolicyRatio
	cfg.Breaker.FailureRatio = ratio
	cfg.Breaker.MinRequests = minRequests
	return cfg
}

func TestBreakerRatioPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &upstream{}
		s := newTestService(t, ratioConfig(0.5, 10), up)
		// Alternate failure and success: the ratio is 50% all along, but
		// the breaker may only trip once 10 calls have completed.
		for i := 1; i <= 10; i++ {
			if i%2 == 1 {
				up.set(500, `{"error":"x"}`)
			} else {
				up.set(200, "")
			}
			ask(t, s, onTopic)
			if i < 10 {
				if st := stateOf(t, s); st != contract.StateClosed {
					t.Fatalf("after %d calls: state %s, want closed", i, st)
				}
			}
		}
		// The 10th call succeeded: gobreaker only checks on a failure.
		up.set(500, `{"error":"x"}`)
		ask(t, s, onTopic)
		if st := stateOf(t, s); st != contract.StateOpen {
			t.Fatalf("after 11 calls with 6 failures: state %s, want open", st)
		}
	})
}

func TestBreakerRatioBelowThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &upstream{}
		s := newTestService(t, ratioConfig(0.6, 4), up)
		// One failure in three calls, 40 times: the ratio is 100% after the
		// first call (too few calls to trip), at most 50% from then on.
		for i := range 120 {
			if i%3 == 0 {
				up.set(500, `{"error":"x"}`)
			} else {
				up.set(200, "")
			}
			ask(t, s, onTopic)
		}
		if st := stateOf(t, s); st != contract.StateClosed {
			t.Errorf("state %s, want closed", st)
		}
	})
}

func TestBreakerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &upstream{}
		up.set(503, failBody)
		cfg := testConfig()
		cfg.Breaker.FailThreshold = 3
		cfg.Breaker.Interval = 10 * time.Second
		s := newTestService(t, cfg, up)
		ask(t, s, onTopic)
		ask(t, s, onTopic)
		time.Sleep(11 * time.Second) // the closed-state counts are cleared
		ask(t, s, onTopic)
		ask(t, s, onTopic)
		if st := stateOf(t, s); st != contract.StateClosed {
			t.Fatalf("2+2 failures across an interval: state %s, want closed", st)
		}
		ask(t, s, onTopic)
		if st := stateOf(t, s); st != contract.StateOpen {
			t.Fatalf("3 failures within an interval: state %s, want open", st)
		}
	})
}

func TestBreakerTimeoutsCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &upstream{}
		up.setDelay(time.Hour)
		s := newTestService(t, testConfig(), up)
		start := time.Now()
		for i := range DefaultFailThreshold {
			a := answerOf(t, ask(t, s, onTopic))
			if a.Metadata.FallbackReason != contract.ReasonUpstreamTimeout {
				t.Fatalf("call %d: reason %q, want upstream_timeout", i, a.Metadata.FallbackReason)
			}
			if d := a.Metadata.DurationMS; d != 30000 {
				t.Errorf("call %d took %v ms, want exactly the 30 s call timeout", i, d)
			}
		}
		if d := time.Since(start); d != 5*DefaultCallTimeout {
			t.Errorf("5 timeouts took %v, want %v", d, 5*DefaultCallTimeout)
		}
		if st := stateOf(t, s); st != contract.StateOpen {
			t.Errorf("after 5 timeouts: state %s, want open", st)
		}
	})
}

func TestBreakerCancelledCallersExcluded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &upstream{}
		up.setDelay(time.Hour)
		cfg := testConfig()
		cfg.Breaker.FailThreshold = 1
		s := newTestService(t, cfg, up)
		for range 5 {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			postCtx(ctx, s, `{"question":"What is a circuit breaker?"}`)
		}
		if st := stateOf(t, s); st != contract.StateClosed {
			t.Errorf("state %s, want closed", st)
		}
	})
}

func TestObserverMustNotDeadlockOtherRequests(t *testing.T) {
	// The observer runs under gobreaker's lock; a slow observer delays
	// requests but an observer that only records never blocks them.
	synctest.Test(t, func(t *testing.T) {
		up := &upstream{}
		up.set(500, `{"error":"x"}`)
		var mu sync.Mutex
		var seen []string
		cfg := testConfig()
		cfg.Breaker.FailThreshold = 1
		s := newTestService(t, cfg, up, WithObserver(func(tr Transition) {
			mu.Lock()
			seen = append(seen, tr.From.String()+">"+tr.To.String())
			mu.Unlock()
		}))
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { ask(t, s, onTopic) })
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 1 || seen[0] != "closed>open" {
			t.Errorf("transitions = %v", seen)
		}
	})
}

var _ http.RoundTripper = (*upstream)(nil)

// TestBreakerRollingWindowAfterLongHealthyStretch plays the same incident
// — half an hour of successes at 1 call/s, then every call failing — under
// the ratio policy (50% of at least 10 calls) with a rolling window and with
// counts that are never cleared. With the window (60 s in 6 buckets) the
// breaker trips 29 s into the storm: 30 failures against the 30 successes
// still in the window (its oldest 10 s bucket was dropped at +20 s). With
// interval 0 the 1800 successes of the healthy stretch all count, so it
// trips only at the 1800th failure, 1799 s into the storm.
func TestBreakerRollingWindowAfterLongHealthyStretch(t *testing.T) {
	const healthy = 1800 // calls, one a second
	for _, tc := range []struct {
		name       string
		window     time.Duration
		buckets    uint32
		wantAfter  time.Duration // from the storm's first call to the trip
		withinOnce bool          // the trip comes within one window of the storm
	}{
		{"window 60s/6", time.Minute, 6, 29 * time.Second, true},
		{"interval 0", 0, 0, (healthy - 1) * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				up := &upstream{}
				cfg := ratioConfig(0.5, 10)
				cfg.Breaker.Window, cfg.Breaker.Buckets = tc.window, tc.buckets
				var log transitionLog
				s := newTestService(t, cfg, up, WithObserver(log.record))
				up.set(200, "")
				for range healthy {
					ask(t, s, onTopic)
					time.Sleep(time.Second)
				}
				up.set(503, failBody)
				storm := time.Now()
				for i := 0; ; i++ {
					if i > 2*healthy {
						t.Fatalf("still closed %d s into the storm", i)
					}
					ask(t, s, onTopic)
					if stateOf(t, s) != contract.StateClosed {
						break
					}
					time.Sleep(time.Second)
				}
				tr := log.all()
				if len(tr) != 1 || tr[0].To != contract.StateOpen {
					t.Fatalf("transitions = %v, want one to open", tr)
				}
				after := tr[0].At.Sub(storm)
				if after != tc.wantAfter {
					t.Errorf("tripped %v into the storm, want %v", after, tc.wantAfter)
				}
				if within := after <= cfg.Breaker.Window; tc.withinOnce && !within {
					t.Errorf("tripped %v into the storm, later than one window (%v)", after, cfg.Breaker.Window)
				}
				if h := health(t, s).CircuitBreaker; h.Window != tc.window.Seconds() || h.Buckets != tc.buckets {
					t.Errorf("health window %v buckets %d, want %v and %d", h.Window, h.Buckets, tc.window.Seconds(), tc.buckets)
				}
			})
		})
	}
}
