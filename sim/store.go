package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"brownout/assistant"
	"brownout/contract"
	"brownout/redisstore"
	"brownout/scenarios"
)

// WithRedis makes a run whose breaker store is redis use the Redis at url
// (redis://host:port) instead of the scenario's breaker.redis_url or the
// embedded server. An unreachable server fails the run at start.
func WithRedis(url string) Option { return func(r *runner) { r.redisURL = url } }

// sharedState is the Redis side of a run with breaker store redis: the
// server (embedded unless a URL was given), the client, and the count of
// store failures the assistant reported.
type sharedState struct {
	embedded *redisstore.Embedded
	client   *redis.Client
	prefix   string
	lockTTL  time.Duration
	errors   atomic.Int64
}

// startShared connects to the Redis a run with store redis uses: the
// scenario's redis_url (which WithRedis sets), else an embedded server,
// reached over loopback like a real one (or through in-memory pipes in an
// InMemory run, which may live in a synctest bubble). It returns nil for a
// local store. Every key of the run carries a prefix of its own, so runs
// sharing a server (a sweep's cells) keep apart; state left on a real
// server expires after an hour.
func startShared(ctx context.Context, sc *scenarios.Scenario, inMemory bool) (*sharedState, error) {
	if sc.Breaker.Store != scenarios.StoreRedis || !sc.Breaker.Enabled {
		return nil, nil
	}
	callTimeout := sc.Breaker.CallTimeout.D() // sc is already scaled
	var raw [6]byte
	_, _ = rand.Read(raw[:])
	sh := &sharedState{
		prefix: "brownout:" + sc.Name + ":" + hex.EncodeToString(raw[:]) + ":",
		// A half-open probe holds the lock across its call: the lock must
		// outlive the call timeout, and not much more, so that a replica
		// that died holding it blocks the others briefly.
		lockTTL: callTimeout + max(callTimeout/2, time.Second),
	}
	url := sc.Breaker.RedisURL
	var err error
	switch {
	case url != "":
		sh.client, err = redisstore.Connect(ctx, url)
	case inMemory:
		sh.embedded = redisstore.NewEmbedded()
		sh.client = sh.embedded.PipeClient()
	default:
		sh.embedded = redisstore.NewEmbedded()
		if url, err = sh.embedded.Listen(); err == nil {
			sh.client, err = redisstore.Connect(ctx, url)
		}
	}
	if err != nil {
		sh.close()
		return nil, fmt.Errorf("breaker store redis: %w", err)
	}
	return sh, nil
}

// options are the assistant options of one replica: its own store (a
// store's lock is re-entrant per store) on the shared client.
func (sh *sharedState) options() []assistant.Option {
	if sh == nil {
		return nil
	}
	st := redisstore.New(sh.client, redisstore.Options{Prefix: sh.prefix, LockTTL: sh.lockTTL, DataTTL: time.Hour})
	return []assistant.Option{
		assistant.WithSharedStore(st),
		assistant.WithStoreErrorObserver(func(string, error) { sh.errors.Add(1) }),
	}
}

// failures says how often the store failed, if it did.
func (sh *sharedState) failures() error {
	if sh == nil || sh.errors.Load() == 0 {
		return nil
	}
	return fmt.Errorf("the shared breaker's Redis failed %d times; each affected call failed closed (fallback reason %s)",
		sh.errors.Load(), contract.ReasonStoreError)
}

func (sh *sharedState) close() {
	if sh == nil {
		return
	}
	if sh.client != nil {
		_ = sh.client.Close()
	}
	if sh.embedded != nil {
		sh.embedded.Close()
	}
}
