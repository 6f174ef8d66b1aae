package assistant

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"brownout/contract"
	"brownout/redisstore"
	"brownout/redisstore/redistest"
)

// replicaSet is N Services sharing one upstream and, with store redis, one
// Redis; it records every transition with the replica that reported it.
type replicaSet struct {
	svcs []*Service
	mu   sync.Mutex
	tr   []replicaTransition
}

type replicaTransition struct {
	replica int
	Transition
}

func newReplicaSet(t testing.TB, n int, cfg Config, rt http.RoundTripper, client redis.UniversalClient, prefix string) *replicaSet {
	t.Helper()
	rs := &replicaSet{}
	for i := range n {
		opts := []Option{WithObserver(func(tr Transition) {
			rs.mu.Lock()
			rs.tr = append(rs.tr, replicaTransition{i, tr})
			rs.mu.Unlock()
		})}
		if cfg.Breaker.Store == StoreRedis {
			opts = append(opts, WithSharedStore(redisstore.New(client, redisstore.Options{Prefix: prefix})))
		}
		rs.svcs = append(rs.svcs, newTestService(t, cfg, rt, opts...))
	}
	return rs
}

// askAll sends total questions round-robin over the replicas from workers
// goroutines at once, and waits for every answer.
func (rs *replicaSet) askAll(t testing.TB, total, workers int) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if rec := ask(t, rs.svcs[i%len(rs.svcs)], "What is a circuit breaker? "+strconv.Itoa(i)); rec.Code != 200 && rec.Code != 503 {
					t.Errorf("request %d: status %d: %s", i, rec.Code, rec.Body)
				}
			}
		})
	}
	for i := range total {
		next <- i
	}
	close(next)
	wg.Wait()
}

func (rs *replicaSet) transitions() []replicaTransition {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]replicaTransition(nil), rs.tr...)
}

// pipeRedis starts an embedded Redis reached through in-memory pipes, so
// that it works inside a synctest bubble (a socket cannot).
func pipeRedis(t testing.TB) (*redisstore.Embedded, *redis.Client) {
	e := redisstore.NewEmbedded()
	c := e.PipeClient()
	t.Cleanup(func() {
		_ = c.Close()
		e.Close()
	})
	return e, c
}

func sharedConfig(store string) Config {
	c := testConfig()
	c.Breaker.Store = store
	c.CacheSize = 0
	return c
}

// In an outage, N local breakers let N × fail_threshold failures reach the
// upstream before every replica has tripped; one shared breaker lets
// fail_threshold through, or more when more calls were already in flight
// when it tripped: the test starts a burst of calls that all wait in the
// upstream, then asks one question at a time. After the reset timeout,
// local replicas probe once each, the shared breaker once in all, even
// when every replica is asked at once.
func TestReplicasTripOnOwnOrSharedThreshold(t *testing.T) {
	const replicas = 4
	for _, tc := range []struct {
		store      string
		inFlight   int   // calls in flight at once at the start of the outage
		wantTrip   int64 // upstream calls until every replica is open
		wantProbes int64 // upstream calls after the reset timeout
	}{
		{StoreLocal, 1, replicas * DefaultFailThreshold, replicas},
		{StoreLocal, 8, replicas * DefaultFailThreshold, replicas},
		{StoreRedis, 1, DefaultFailThreshold, 1},
		{StoreRedis, 3, DefaultFailThreshold, 1},
		{StoreRedis, 8, 8, 1},
	} {
		t.Run(tc.store+"/in-flight="+strconv.Itoa(tc.inFlight), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, client := pipeRedis(t)
				u := &upstream{}
				u.set(500, `{"error":"down"}`)
				u.setDelay(time.Second)
				cfg := sharedConfig(tc.store)
				rs := newReplicaSet(t, replicas, cfg, u, client, "")

				rs.askAll(t, tc.inFlight, tc.inFlight)
				rs.askAll(t, 200, 1)
				if got := u.calls.Load(); got != tc.wantTrip {
					t.Errorf("upstream calls before every replica tripped = %d, want %d", got, tc.wantTrip)
				}
				opened := map[int]bool{}
				for _, tr := range rs.transitions() {
					if tr.To == contract.StateOpen {
						opened[tr.replica] = true
					}
				}
				if len(opened) != replicas {
					t.Errorf("replicas that saw their breaker open = %v, want all %d", opened, replicas)
				}

				time.Sleep(cfg.Breaker.ResetTimeout + time.Millisecond)
				before := u.calls.Load()
				rs.askAll(t, 2*replicas, 2*replicas) // all at once: probes compete
				if got := u.calls.Load() - before; got != tc.wantProbes {
					t.Errorf("upstream calls after the reset timeout = %d, want %d", got, tc.wantProbes)
				}
			})
		})
	}
}

// With a shared breaker, no replica sends an upstream call while the shared
// state is open: every call lands before the first trip or at least a
// reset timeout after the latest opening.
func TestSharedBreakerNoCallWhileOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, client := pipeRedis(t)
		var mu sync.Mutex
		var callTimes []time.Time
		u := &upstream{}
		u.set(500, `{"error":"down"}`)
		// Calls take time, so that a call's start (recorded) differs from
		// the trip its failure causes.
		u.setDelay(50 * time.Millisecond)
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			callTimes = append(callTimes, time.Now())
			mu.Unlock()
			return u.RoundTrip(r)
		})
		cfg := sharedConfig(StoreRedis)
		cfg.Breaker.ResetTimeout = 10 * time.Second
		rs := newReplicaSet(t, 8, cfg, rt, client, "")
		// 100 s of 10 requests per second, 2 at a time, round-robin.
		for range 500 {
			rs.askAll(t, 2, 2)
			time.Sleep(200 * time.Millisecond)
		}
		var opens []time.Time
		last := map[int]Transition{}
		for _, tr := range rs.transitions() {
			if tr.To == contract.StateOpen {
				opens = append(opens, tr.At)
			}
			// Each replica's transitions chain, in time order, although
			// its calls read the store concurrently.
			if p, ok := last[tr.replica]; ok && (p.To != tr.From || tr.At.Before(p.At)) {
				t.Errorf("replica %d: %+v after %+v", tr.replica, tr.Transition, p)
			}
			last[tr.replica] = tr.Transition
		}
		if len(opens) == 0 {
			t.Fatal("the shared breaker never opened")
		}
		for _, at := range callTimes {
			for _, o := range opens {
				if !at.Before(o) && at.Before(o.Add(cfg.Breaker.ResetTimeout)) {
					t.Fatalf("upstream call at %v while the shared breaker was open (opened %v)", at, o)
				}
			}
		}
		// 5 failures, then one probe per reset timeout.
		if got, max := len(callTimes), DefaultFailThreshold+100/10; got > max {
			t.Errorf("upstream calls = %d, want at most %d", got, max)
		}
	})
}

// Concurrent calls on many replicas lose no count in the shared state: the
// lock is taken before the state is read (gobreaker v2.4.0 reads first),
// and only its holder can release it.
func TestSharedBreakerLosesNoCount(t *testing.T) {
	const replicas, calls = 6, 300
	check := func(t *testing.T, client redis.UniversalClient, prefix string) {
		u := &upstream{}
		cfg := sharedConfig(StoreRedis)
		rs := newReplicaSet(t, replicas, cfg, u, client, prefix)
		rs.askAll(t, calls, 24)
		raw, err := client.Get(context.Background(), prefix+sharedStatePrefix+cfg.Breaker.Name).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		var st gobreaker.SharedState
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		if st.Counts.Requests != calls || st.Counts.TotalSuccesses != calls || u.calls.Load() != calls {
			t.Errorf("shared counts = %+v after %d calls (%d reached the upstream), want every call counted",
				st.Counts, calls, u.calls.Load())
		}
	}
	t.Run("embedded", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, client := pipeRedis(t)
			check(t, client, "")
		})
	})
	t.Run("real", func(t *testing.T) {
		client := redistest.Real(t)
		if client == nil {
			t.Skip("no real redis-server (see above)")
		}
		// A real socket cannot live in a synctest bubble, and this test
		// needs no virtual time: it counts.
		prefix := "brownout-test:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
		t.Cleanup(func() {
			ctx := context.Background()
			client.Del(ctx, prefix+sharedStatePrefix+DefaultName, prefix+sharedMutexPrefix+DefaultName)
		})
		check(t, client, prefix)
	})
}

// A store that fails mid-run fails closed: the assistant keeps answering
// from its fallbacks with reason breaker_store_error, sends nothing
// upstream, counts the errors, and recovers when the store does.
func TestSharedBreakerFailsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, client := pipeRedis(t)
		u := &upstream{}
		var storeErrs int
		st := redisstore.New(client, redisstore.Options{})
		s := newTestService(t, sharedConfig(StoreRedis), u, WithSharedStore(st),
			WithStoreErrorObserver(func(string, error) { storeErrs++ }))
		if rec := ask(t, s, "What is a circuit breaker?"); decode[QueryResponse](t, rec).Metadata.FromFallback {
			t.Fatalf("healthy store: %s", rec.Body)
		}
		e.SetError("LOADING Redis is loading the dataset in memory")
		rec := ask(t, s, "What is a circuit breaker?")
		if md := decode[QueryResponse](t, rec).Metadata; md.FallbackReason != contract.ReasonStoreError {
			t.Fatalf("failing store: fallback reason %q, want %q: %s", md.FallbackReason, contract.ReasonStoreError, rec.Body)
		}
		if u.calls.Load() != 1 || storeErrs != 1 {
			t.Errorf("failing store: upstream calls %d, store errors %d; want 1, 1", u.calls.Load(), storeErrs)
		}
		e.SetError("")
		if rec := ask(t, s, "What is a circuit breaker?"); decode[QueryResponse](t, rec).Metadata.FromFallback {
			t.Fatalf("recovered store: %s", rec.Body)
		}
	})
}

// A store that does not answer is an error at start, not a fallback on
// every request.
func TestSharedBreakerNeedsAStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := sharedConfig(StoreRedis)
		if _, err := New(cfg, WithTransport(&upstream{}), WithLogger(discardLogger())); err == nil {
			t.Error("New with store redis and no shared store succeeded")
		}
		e, client := pipeRedis(t)
		e.SetError("ERR down")
		_, err := New(cfg, WithTransport(&upstream{}), WithLogger(discardLogger()),
			WithSharedStore(redisstore.New(client, redisstore.Options{})))
		if err == nil {
			t.Error("New with a failing store succeeded")
		}
	})
}
