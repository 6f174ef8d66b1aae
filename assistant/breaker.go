package assistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"brownout/contract"

	"github.com/sony/gobreaker/v2"
)

// Transition is one change of a breaker's state. At is taken inside the
// breaker's state change, so it is the exact moment of the transition (in
// virtual time inside a testing/synctest bubble).
type Transition struct {
	Breaker string
	From    contract.State
	To      contract.State
	At      time.Time
}

// breaker wraps one gobreaker.CircuitBreaker, or calls straight through when
// the breaker is disabled. It remembers when it last opened and turned
// half-open so that a 503 can say when the next request will be let through.
type breaker struct {
	name        string
	cfg         BreakerConfig
	callTimeout time.Duration
	cb          *gobreaker.CircuitBreaker[string] // nil when disabled or shared
	sh          *shared                           // non-nil when shared (StoreRedis)

	onTransition transitionFunc
	onStoreError func(breaker string, err error)

	obsMu  sync.Mutex // orders transitions made here and seen in the store
	lastAt time.Time  // when the state after the last transition began

	last       atomic.Int32 // gobreaker.State after the last transition
	openedAt   atomic.Int64 // UnixNano of the last transition to open
	halfOpenAt atomic.Int64 // UnixNano of the last transition to half-open

	// failStreak counts consecutive counted failures of calls actually made,
	// like PyBreaker's fail_counter: unlike gobreaker's Counts it is not
	// cleared when the breaker opens, so an open breaker reports the run of
	// failures that opened it.
	failStreak atomic.Uint32
}

// transitionFunc is told about every transition. gobreaker calls it with
// its mutex held: it must not call back into the breaker.
type transitionFunc func(Transition)

// breakerDeps are what a breaker reports to, and its store when shared.
type breakerDeps struct {
	onTransition transitionFunc
	onStoreError func(breaker string, err error)
	store        SharedStore // used when cfg.Store is StoreRedis
}

func newBreaker(name string, cfg BreakerConfig, callTimeout time.Duration, deps breakerDeps) (*breaker, error) {
	b := &breaker{name: name, cfg: cfg, callTimeout: callTimeout,
		onTransition: deps.onTransition, onStoreError: deps.onStoreError}
	if !cfg.Enabled {
		return b, nil
	}
	st := gobreaker.Settings{
		Name:        name,
		MaxRequests: cfg.HalfOpenMaxRequests,
		Interval:    cfg.Interval,
		Timeout:     cfg.ResetTimeout,
		IsExcluded:  excludedFromBreaker,
		// Called by gobreaker under its lock: record and report, never call
		// b.cb here (State and Counts take the same lock).
		OnStateChange: func(_ string, from, to gobreaker.State) {
			b.moved(from, to, time.Now())
		},
	}
	if cfg.Window > 0 {
		// gobreaker rounds Interval up to a whole number of buckets; with
		// Window not a multiple of Buckets that adds under Buckets ns.
		st.Interval, st.BucketPeriod = cfg.Window, cfg.BucketPeriod()
	}
	switch cfg.Policy {
	case PolicyRatio:
		ratio, minReq := cfg.FailureRatio, cfg.MinRequests
		st.ReadyToTrip = func(c gobreaker.Counts) bool {
			// Count completed calls only: Requests also holds calls still in
			// flight and excluded ones, which would dilute the ratio.
			done := c.TotalSuccesses + c.TotalFailures
			return done >= minReq && float64(c.TotalFailures) >= ratio*float64(done)
		}
	default:
		// gobreaker's default trips at more than 5; the seed's fail_max
		// trips at exactly fail_threshold.
		threshold := cfg.FailThreshold
		st.ReadyToTrip = func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold }
	}
	if cfg.Store == StoreRedis {
		if deps.store == nil {
			return nil, fmt.Errorf("breaker %q: store %s needs a shared store (WithSharedStore)", name, StoreRedis)
		}
		if err := b.newShared(deps.store, st); err != nil {
			return nil, fmt.Errorf("breaker %q: %w", name, err)
		}
		return b, nil
	}
	b.cb = gobreaker.NewCircuitBreaker[string](st)
	return b, nil
}

// moved records a transition of this breaker's state, made here or, when
// shared, seen in the store, and reports it.
func (b *breaker) moved(from, to gobreaker.State, at time.Time) {
	b.obsMu.Lock()
	defer b.obsMu.Unlock()
	b.setLast(from, to, at)
}

func (b *breaker) setLast(from, to gobreaker.State, at time.Time) {
	b.lastAt = at
	b.last.Store(int32(to))
	switch to {
	case gobreaker.StateOpen:
		b.openedAt.Store(at.UnixNano())
	case gobreaker.StateHalfOpen:
		b.halfOpenAt.Store(at.UnixNano())
	}
	if b.onTransition != nil {
		b.onTransition(Transition{Breaker: b.name, From: contractState(from), To: contractState(to), At: at})
	}
}

// observe is told the shared state a call found in the store: a state this
// replica has not seen yet is a transition another replica made, at the
// moment the state began. A read older than the last transition this
// replica knows of (calls read the store concurrently) is ignored.
func (b *breaker) observe(to gobreaker.State, since time.Time) {
	b.obsMu.Lock()
	defer b.obsMu.Unlock()
	if from := gobreaker.State(b.last.Load()); from != to && since.After(b.lastAt) {
		b.setLast(from, to, since)
	}
}

// execute runs fn through the breaker. A rejection is returned as
// gobreaker.ErrOpenState or gobreaker.ErrTooManyRequests; a shared breaker
// whose store failed returns an error wrapping ErrStoreFailed.
func (b *breaker) execute(ctx context.Context, fn func() (string, error)) (string, error) {
	counted := func() (string, error) {
		a, err := fn()
		switch {
		case err == nil:
			b.failStreak.Store(0)
		case !excludedFromBreaker(err):
			b.failStreak.Add(1)
		}
		return a, err
	}
	switch {
	case b.sh != nil:
		return b.executeShared(ctx, counted)
	case b.cb == nil:
		return counted()
	}
	return b.cb.Execute(counted)
}

// rejected reports whether err is the breaker refusing a call.
func rejected(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}

// state returns the current state; it may move an expired open breaker to
// half-open, exactly as a request would.
func (b *breaker) state() contract.State {
	switch {
	case b.sh != nil:
		st, _, err := b.sharedState(time.Now())
		if err != nil {
			return b.lastState()
		}
		return contractState(st)
	case b.cb == nil:
		return contract.StateClosed
	}
	return contractState(b.cb.State())
}

// contractState names a gobreaker state in the contract's vocabulary.
func contractState(s gobreaker.State) contract.State {
	switch s {
	case gobreaker.StateOpen:
		return contract.StateOpen
	case gobreaker.StateHalfOpen:
		return contract.StateHalfOpen
	}
	return contract.StateClosed
}

// lastState is the state after the breaker's last transition: the current
// state as of the breaker's last request or state read, without taking its
// lock. Right after execute it is exact, because gobreaker settles any due
// transition before admitting or rejecting a call.
func (b *breaker) lastState() contract.State {
	if b.cb == nil && b.sh == nil {
		return contract.StateClosed
	}
	return contractState(gobreaker.State(b.last.Load()))
}

// retryAfter is the time until the breaker next lets a request through,
// rounded up to whole seconds, at least 1.
//   - closed (or disabled): 1, the next request goes through.
//   - open: the rest of the reset timeout.
//   - half-open: the probes are in flight; the earliest a new request can
//     be admitted is when they succeed, and they take at most the call
//     timeout from the moment the breaker turned half-open.
func (b *breaker) retryAfter(now time.Time) int {
	state, opened, halfOpened := b.state(), time.Unix(0, b.openedAt.Load()), time.Unix(0, b.halfOpenAt.Load())
	if b.sh != nil {
		// The shared state knows when it began, whichever replica moved it.
		if st, since, err := b.sharedState(now); err == nil {
			state, opened, halfOpened = contractState(st), since, since
		}
	}
	var wait time.Duration
	switch state {
	case contract.StateOpen:
		wait = opened.Add(b.cfg.ResetTimeout).Sub(now)
	case contract.StateHalfOpen:
		wait = halfOpened.Add(b.callTimeout).Sub(now)
	}
	return ceilSeconds(wait)
}

func ceilSeconds(d time.Duration) int {
	if d <= time.Second {
		return 1
	}
	return int(math.Ceil(d.Seconds()))
}

// BreakerStatus is one breaker's status as the health endpoint and the 503
// body report it (the seed's circuit_status, plus policy).
type BreakerStatus struct {
	Enabled      bool           `json:"enabled"`
	Name         string         `json:"name"`
	State        contract.State `json:"state"`
	FailCount    uint32         `json:"fail_count"`    // consecutive failures of calls made (rejections excluded)
	FailMax      uint32         `json:"fail_max"`      // the consecutive-failure threshold
	ResetTimeout float64        `json:"reset_timeout"` // seconds
	IsHealthy    bool           `json:"is_healthy"`    // state is closed
	Policy       string         `json:"policy"`
	// Brownout's additions beside the seed's fields: how the closed state
	// counts. Interval (seconds, 0 = never cleared) is the fixed window;
	// Window (seconds, 0 = none) and Buckets the rolling one.
	Interval float64 `json:"interval"`
	Window   float64 `json:"window"`
	Buckets  uint32  `json:"buckets"`
}

func (b *breaker) status() BreakerStatus {
	s := BreakerStatus{
		Enabled:      b.cfg.Enabled,
		Name:         b.name,
		State:        b.state(),
		FailCount:    b.failStreak.Load(),
		FailMax:      b.cfg.FailThreshold,
		ResetTimeout: b.cfg.ResetTimeout.Seconds(),
		Policy:       b.cfg.Policy,
		Interval:     b.cfg.Interval.Seconds(),
		Window:       b.cfg.Window.Seconds(),
	}
	if b.cfg.Window > 0 {
		s.Buckets = b.cfg.buckets()
	}
	s.IsHealthy = s.State == contract.StateClosed
	return s
}

// logTransition logs one transition at a level that fits it.
func logTransition(l *slog.Logger, t Transition) {
	level := slog.LevelInfo
	if t.To == contract.StateOpen {
		level = slog.LevelWarn
	}
	l.Log(context.Background(), level, "circuit breaker state change",
		slog.String("breaker", t.Breaker), slog.String("from", t.From.String()), slog.String("to", t.To.String()),
		slog.Time("at", t.At))
}
