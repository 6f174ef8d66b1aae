package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sony/gobreaker/v2"
)

// SharedStore holds the state of a breaker shared by several replicas
// (BreakerConfig.Store StoreRedis). It is gobreaker's SharedDataStore with
// two more promises, which package redisstore keeps:
//   - Lock is re-entrant for its holder: while the store holds a lock, Lock
//     of the same name succeeds again and only the matching Unlock releases
//     it. Give each Service its own store (they may share a connection).
//   - Lock reports a lock held by another holder with an error that has a
//     method Locked() bool returning true; any other error is a store
//     failure.
type SharedStore = gobreaker.SharedDataStore

// ErrStoreFailed wraps every failure of a shared breaker's store that kept
// a call from being admitted. The shared breaker fails closed: such a call
// is not sent upstream, and the query falls back with reason
// ReasonStoreError.
var ErrStoreFailed = errors.New("shared breaker store failed")

// Keys gobreaker v2.4.0's DistributedCircuitBreaker uses (its mutexKey and
// sharedStateKey). The shared breaker takes the same lock before gobreaker
// does, so the names must agree; TestSharedBreakerLosesNoCount fails if they
// drift.
const (
	sharedMutexPrefix = "gobreaker:mutex:"
	sharedStatePrefix = "gobreaker:state:"
)

// lockPollMax caps the pause between two tries of a lock held by another
// replica.
const lockPollMax = 10 * time.Millisecond

// shared is the Redis-backed part of a breaker.
type shared struct {
	raw      SharedStore // the store as given, for reads that observe nothing
	store    SharedStore // raw, observed by the breaker
	dcb      *gobreaker.DistributedCircuitBreaker[string]
	settings gobreaker.Settings
	// turn admits one call of this replica at a time into the shared
	// breaker: the store's lock is re-entrant per store, not per goroutine.
	turn chan struct{}
	// lockWait bounds how long a call waits for its turn and the lock
	// before it fails closed.
	lockWait time.Duration
}

func isLocked(err error) bool {
	var l interface{ Locked() bool }
	return errors.As(err, &l) && l.Locked()
}

// observingStore reports to its breaker every shared state it reads, so
// that a replica learns of the transitions other replicas made.
type observingStore struct {
	SharedStore
	b *breaker
}

func (o observingStore) GetData(name string) ([]byte, error) {
	data, err := o.SharedStore.GetData(name)
	if err == nil && len(data) > 0 && name == sharedStatePrefix+o.b.name {
		var st gobreaker.SharedState
		if json.Unmarshal(data, &st) == nil {
			o.b.observe(st.State, st.Start)
		}
	}
	return data, err
}

// newShared builds the distributed breaker, creating the shared state when
// the store has none. A store that cannot be reached is an error here, at
// start, rather than a fallback on every request.
func (b *breaker) newShared(store SharedStore, st gobreaker.Settings) error {
	b.sh = &shared{
		raw:      store,
		store:    observingStore{store, b},
		settings: st,
		turn:     make(chan struct{}, 1),
		lockWait: b.callTimeout,
	}
	release, err := b.acquire(context.Background())
	if err != nil {
		return err
	}
	defer release()
	return b.sh.init()
}

func (sh *shared) init() error {
	dcb, err := gobreaker.NewDistributedCircuitBreaker[string](sh.store, sh.settings)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreFailed, err)
	}
	sh.dcb = dcb
	return nil
}

// acquire waits, at most lockWait, for this replica's turn and then for the
// store's lock on the breaker. It returns the function that releases both.
func (b *breaker) acquire(ctx context.Context) (release func() error, err error) {
	sh := b.sh
	timer := time.NewTimer(sh.lockWait)
	defer timer.Stop()
	select {
	case sh.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, fmt.Errorf("%w: no turn within %v", ErrStoreFailed, sh.lockWait)
	}
	key := sharedMutexPrefix + b.name
	for pause := 250 * time.Microsecond; ; pause = min(2*pause, lockPollMax) {
		err := sh.store.Lock(key)
		if err == nil {
			return func() error {
				defer func() { <-sh.turn }()
				return sh.store.Unlock(key)
			}, nil
		}
		if !isLocked(err) {
			<-sh.turn
			return nil, fmt.Errorf("%w: %w", ErrStoreFailed, err)
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			<-sh.turn
			return nil, ctx.Err()
		case <-timer.C:
			<-sh.turn
			return nil, fmt.Errorf("%w: lock %q still held by another replica after %v", ErrStoreFailed, key, sh.lockWait)
		}
	}
}

// executeShared runs fn through the shared breaker, holding the store's
// lock from before the shared state is read until after it is written, as
// gobreaker's DistributedCircuitBreaker does, so that no replica's update
// is lost. The lock is held across the upstream call: gobreaker v2.4.0
// admits one call at a time across all replicas.
func (b *breaker) executeShared(ctx context.Context, fn func() (string, error)) (string, error) {
	release, err := b.acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", b.storeFailed(err)
	}
	var (
		called bool
		answer string
		callEr error
	)
	_, err = b.sh.dcb.Execute(func() (string, error) {
		called = true
		answer, callEr = fn()
		return answer, callEr
	})
	if errors.Is(err, gobreaker.ErrNoSharedState) {
		// The state went missing (a flushed or restarted Redis): start a
		// fresh closed breaker, as a first replica would.
		err = errors.Join(err, b.sh.init())
	}
	if relErr := release(); relErr != nil {
		err = errors.Join(err, relErr)
	}
	switch {
	case called:
		// The call was made and its result stands; a store error after it
		// (the state not written, the lock lost) is counted, not returned.
		if err != nil && !errors.Is(err, callEr) {
			b.storeFailed(err)
		}
		return answer, callEr
	case rejected(err):
		return "", err
	default:
		return "", b.storeFailed(err)
	}
}

// storeFailed counts and reports a store failure and returns it wrapped in
// ErrStoreFailed.
func (b *breaker) storeFailed(err error) error {
	if !errors.Is(err, ErrStoreFailed) {
		err = fmt.Errorf("%w: %w", ErrStoreFailed, err)
	}
	if b.onStoreError != nil {
		b.onStoreError(b.name, err)
	}
	return err
}

// sharedState reads the shared state without locking or writing it, as
// the health endpoint needs: an open state past its expiry reads as
// half-open, which is what the next call will find.
func (b *breaker) sharedState(now time.Time) (gobreaker.State, time.Time, error) {
	data, err := b.sh.raw.GetData(sharedStatePrefix + b.name)
	if err != nil {
		return 0, time.Time{}, b.storeFailed(err)
	}
	var st gobreaker.SharedState
	if len(data) == 0 {
		return gobreaker.StateClosed, time.Time{}, nil
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return 0, time.Time{}, b.storeFailed(err)
	}
	if st.State == gobreaker.StateOpen && st.Expiry.Before(now) {
		return gobreaker.StateHalfOpen, st.Expiry, nil
	}
	return st.State, st.Start, nil
}
