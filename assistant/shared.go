package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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
// contract.ReasonStoreError.
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
const lockPollMax = time.Millisecond

// batchPause is how long a replica that has just counted a batch waits
// before it takes the lock again for the next one: at least lockPollMax, so
// that every replica waiting for the lock tries it while it is free. Without
// it, a busy replica that relocks at once starves the others.
const batchPause = 2 * lockPollMax

// probeLockWait is how long a call in the half-open state waits for the
// lock before it counts as one probe too many: long enough for another
// replica to count a result (a few Redis round trips), far shorter than a
// probe's upstream call.
const probeLockWait = 20 * time.Millisecond

var (
	// errLockBusy: the lock was not free within the wait.
	errLockBusy = errors.New("lock busy")
	// errStaleResult is what record counts for a call that began in an
	// older generation of the breaker: excluded, so it changes nothing.
	errStaleResult = errors.New("result of an older breaker generation")
)

// shared is the Redis-backed part of a breaker.
type shared struct {
	raw      SharedStore     // the store as given, for reads that observe nothing
	store    *observingStore // raw, observed by the breaker
	dcb      *gobreaker.DistributedCircuitBreaker[string]
	settings gobreaker.Settings
	// turn admits one call of this replica at a time into the shared
	// breaker: the store's lock is re-entrant per store, not per goroutine.
	turn chan struct{}
	// lockWait bounds how long a result waits for its turn and the lock
	// before it is lost (and a store error counted).
	lockWait time.Duration
	// generation is the shared state's generation as this replica last
	// read it under the lock.
	generation uint64

	// Results waiting to be counted, and whether a call is counting them
	// (see commit).
	mu         sync.Mutex
	pending    []pendingResult
	committing bool
}

// pendingResult is a finished call waiting to be counted.
type pendingResult struct {
	generation uint64 // of the state the call was admitted in
	err        error
	done       chan struct{}
}

func isLocked(err error) bool {
	var l interface{ Locked() bool }
	return errors.As(err, &l) && l.Locked()
}

// observingStore reports to its breaker every shared state it reads, so
// that a replica learns of the transitions other replicas made. During a
// batch (see commit) it keeps the state in memory after the first read and
// writes it back once at the end, so that counting n results costs one read
// and one write. It is used under the replica's turn only.
type observingStore struct {
	SharedStore
	b        *breaker
	batching bool
	cached   []byte // the state as read or written in this batch
	dirty    bool
}

func (o *observingStore) GetData(name string) ([]byte, error) {
	if o.batching && o.cached != nil && name == o.stateKey() {
		return o.cached, nil
	}
	data, err := o.SharedStore.GetData(name)
	if err == nil && len(data) > 0 && name == o.stateKey() {
		var st gobreaker.SharedState
		if json.Unmarshal(data, &st) == nil {
			o.b.sh.generation = st.Generation
			o.b.observe(st.State, st.Start)
		}
		if o.batching {
			o.cached = data
		}
	}
	return data, err
}

func (o *observingStore) SetData(name string, data []byte) error {
	if o.batching && name == o.stateKey() {
		o.cached, o.dirty = data, true
		return nil
	}
	return o.SharedStore.SetData(name, data)
}

func (o *observingStore) stateKey() string { return sharedStatePrefix + o.b.name }

// beginBatch starts keeping the state in memory.
func (o *observingStore) beginBatch() { o.batching, o.cached, o.dirty = true, nil, false }

// endBatch writes the state back if the batch changed it.
func (o *observingStore) endBatch() error {
	data, dirty := o.cached, o.dirty
	o.batching, o.cached, o.dirty = false, nil, false
	if !dirty {
		return nil
	}
	return o.SharedStore.SetData(o.stateKey(), data)
}

// newShared builds the distributed breaker, creating the shared state when
// the store has none. A store that cannot be reached is an error here, at
// start, rather than a fallback on every request.
func (b *breaker) newShared(store SharedStore, st gobreaker.Settings) error {
	excluded := st.IsExcluded
	st.IsExcluded = func(err error) bool { return err == errStaleResult || excluded(err) }
	b.sh = &shared{
		raw:      store,
		store:    &observingStore{SharedStore: store, b: b},
		settings: st,
		turn:     make(chan struct{}, 1),
		lockWait: b.callTimeout,
	}
	release, err := b.acquire(context.Background(), b.sh.lockWait)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreFailed, err)
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

// acquire waits, at most wait, for this replica's turn and then for the
// store's lock on the breaker. It returns the function that releases both,
// or an error wrapping errLockBusy when the wait ran out.
func (b *breaker) acquire(ctx context.Context, wait time.Duration) (release func() error, err error) {
	sh := b.sh
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case sh.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, fmt.Errorf("%w: this replica's previous call still holds it after %v", errLockBusy, wait)
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
			return nil, fmt.Errorf("%w: %q still held by another replica after %v", errLockBusy, key, wait)
		}
	}
}

// executeShared runs fn through the shared breaker. The state machine is
// gobreaker's DistributedCircuitBreaker; what this adds is when the store's
// lock is held, because gobreaker v2.4.0 holds it across the protected call,
// which would let one upstream call at a time through across all replicas:
//   - open, before its reset timeout: rejected on a read, without the lock
//     (gobreaker would change nothing either);
//   - closed: the call runs without the lock, as many at once as the load
//     brings, and its result is then counted under the lock (a result from
//     an older generation is dropped, as gobreaker drops it);
//   - half-open (or open past its timeout): the call is a probe and holds
//     the lock across the call, so probes are one at a time across
//     replicas; a call that finds the lock taken within probeLockWait is
//     rejected like gobreaker's ErrTooManyRequests.
//
// The lock is always taken before the shared state is read (gobreaker reads
// it first, which loses concurrent updates).
func (b *breaker) executeShared(ctx context.Context, fn func() (string, error)) (string, error) {
	now := time.Now()
	st, err := b.peek()
	if err != nil {
		return "", err
	}
	switch {
	case st.State == gobreaker.StateOpen && !st.Expiry.Before(now):
		return "", gobreaker.ErrOpenState
	case st.State == gobreaker.StateClosed:
		answer, callErr := fn()
		// The count matters even if the caller has gone meanwhile.
		b.record(context.WithoutCancel(ctx), st.Generation, callErr)
		return answer, callErr
	}
	return b.probe(ctx, fn)
}

// peek reads the shared state without the lock and tells the breaker what
// it found.
func (b *breaker) peek() (gobreaker.SharedState, error) {
	var st gobreaker.SharedState
	data, err := b.sh.raw.GetData(sharedStatePrefix + b.name)
	if err == nil && len(data) > 0 {
		// No data (a flushed Redis) reads as closed; counting the result
		// creates the state again (see settle).
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		return st, b.storeFailed(err)
	}
	b.observe(st.State, st.Start)
	return st, nil
}

// record counts a finished call's result in the shared state, through
// gobreaker (which trips the breaker when due), and returns once it is
// counted. Results that finish while another call is counting are counted
// together in the next batch, under one lock and with one read and one
// write of the state (group commit), so a replica's counting keeps up with
// any load. A result of an older generation than its call's is counted as
// excluded, which changes nothing. A store failure loses the batch's counts
// and is reported.
func (b *breaker) record(ctx context.Context, generation uint64, callErr error) {
	sh := b.sh
	done := make(chan struct{})
	sh.mu.Lock()
	sh.pending = append(sh.pending, pendingResult{generation, callErr, done})
	lead := !sh.committing
	sh.committing = true
	sh.mu.Unlock()
	if !lead {
		<-done
		return
	}
	for {
		sh.mu.Lock()
		batch := sh.pending
		sh.pending = nil
		if len(batch) == 0 {
			sh.committing = false
			sh.mu.Unlock()
			return
		}
		sh.mu.Unlock()
		b.commit(ctx, batch)
		for _, p := range batch {
			close(p.done)
		}
		sh.mu.Lock()
		more := len(sh.pending) > 0
		sh.mu.Unlock()
		if more {
			time.Sleep(batchPause)
		}
	}
}

// commit counts a batch of results under the lock.
func (b *breaker) commit(ctx context.Context, batch []pendingResult) {
	release, err := b.acquire(ctx, b.sh.lockWait)
	if err != nil {
		b.storeFailed(err)
		return
	}
	b.sh.store.beginBatch()
	var storeErr error
	for _, p := range batch {
		var (
			called bool
			result error
		)
		_, err := b.sh.dcb.Execute(func() (string, error) {
			called, result = true, p.err
			if b.sh.generation != p.generation {
				result = errStaleResult
			}
			return "", result
		})
		if (called && err != result) || (!called && !rejected(err)) {
			storeErr = err
			break
		}
	}
	if err := b.sh.store.endBatch(); err != nil && storeErr == nil {
		storeErr = err
	}
	b.settle(storeErr, false, nil, release)
}

// probe runs fn holding the lock across the call.
func (b *breaker) probe(ctx context.Context, fn func() (string, error)) (string, error) {
	release, err := b.acquire(ctx, probeLockWait)
	switch {
	case errors.Is(err, errLockBusy):
		return "", gobreaker.ErrTooManyRequests
	case err != nil && ctx.Err() != nil:
		return "", err
	case err != nil:
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
	storeErr := b.settle(err, called, callEr, release)
	switch {
	case called:
		return answer, callEr
	case rejected(err):
		return "", err
	}
	return "", storeErr
}

// settle releases the lock after dcb.Execute returned err, and reports the
// store's failure if there was one: an error that is neither the call's
// own (result) nor a rejection. A state that went missing (a flushed or
// restarted Redis) is created afresh, as the first replica does.
func (b *breaker) settle(err error, called bool, result error, release func() error) error {
	var storeErr error
	switch {
	case called && err != result:
		storeErr = err // the call was made; writing its count failed
	case !called && !rejected(err):
		storeErr = err
	}
	if errors.Is(storeErr, gobreaker.ErrNoSharedState) {
		storeErr = errors.Join(storeErr, b.sh.init())
	}
	if relErr := release(); relErr != nil {
		storeErr = errors.Join(storeErr, relErr)
	}
	if storeErr == nil {
		return nil
	}
	return b.storeFailed(storeErr)
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
