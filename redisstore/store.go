// Package redisstore keeps the state of circuit breakers shared by several
// assistant replicas in Redis: a gobreaker.SharedDataStore on a real Redis
// client (go-redis v9), with a lock that only its holder can release and
// that expires when the holder dies, and an embedded in-process Redis server
// (miniredis) so that a run needs nothing installed.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// DefaultLockTTL is how long a lock outlives a holder that died without
// releasing it, when Options.LockTTL is zero.
const DefaultLockTTL = 5 * time.Second

// DefaultOpTimeout bounds one Redis command when Options.OpTimeout is zero:
// a store that does not answer is a failed store, not a slow breaker.
const DefaultOpTimeout = time.Second

// Errors a Store returns. They wrap nothing: the Redis error, when there is
// one, is joined to them with %w by the caller-facing message.
var (
	// ErrLocked is returned by Lock when another holder has the lock. It
	// has a method Locked() bool returning true, so that a caller that does
	// not import this package can tell waiting from failing.
	ErrLocked error = lockedError{}
	// ErrLockLost is returned by Unlock when the lock had expired (and
	// maybe been taken by another holder) before this holder released it.
	ErrLockLost = errors.New("redisstore: lock expired before it was released")
	// ErrNotHeld is returned by Unlock for a lock this Store does not hold.
	ErrNotHeld = errors.New("redisstore: unlock of a lock not held")
)

type lockedError struct{}

func (lockedError) Error() string { return "redisstore: lock held by another holder" }
func (lockedError) Locked() bool  { return true }

// Options tunes a Store.
type Options struct {
	// LockTTL is the lock's expiry (SET … PX): the longest a lock survives
	// a holder that died. It must exceed the longest time a holder keeps
	// the lock, or a live holder loses it (Unlock then reports
	// ErrLockLost). Zero means DefaultLockTTL.
	LockTTL time.Duration
	// OpTimeout bounds each Redis command. Zero means DefaultOpTimeout.
	OpTimeout time.Duration
	// Prefix is put before every key, so that runs sharing one Redis (a
	// sweep's cells, runs against a real server) keep apart.
	Prefix string
	// DataTTL, when positive, is the expiry of stored state, so that a run
	// leaves nothing behind for long on a real server. Zero keeps it.
	DataTTL time.Duration
}

// unlockScript deletes the lock only if it still holds this holder's token,
// atomically, so that a holder whose lock expired cannot release the lock
// another holder took since.
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)

// Store is one holder's view of the shared state: a gobreaker.SharedDataStore
// whose locks carry a random token per acquisition. Give every replica its
// own Store (they may share one client).
//
// Lock is re-entrant: while this Store holds a lock, Lock of the same name
// succeeds again and only the matching number of Unlocks releases it. That
// lets a caller take the lock before gobreaker.DistributedCircuitBreaker
// reads the shared state (gobreaker v2.4.0 reads it before locking, which
// loses updates between replicas). The holder is the Store, not a
// goroutine: its users must take turns (the assistant admits one call per
// replica at a time into the shared breaker).
type Store struct {
	client redis.UniversalClient
	opts   Options

	mu   sync.Mutex
	held map[string]*hold
}

type hold struct {
	token string
	depth int
}

var _ gobreaker.SharedDataStore = (*Store)(nil)

// New returns a Store on client. The client stays the caller's to close.
func New(client redis.UniversalClient, opts Options) *Store {
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = DefaultOpTimeout
	}
	return &Store{client: client, opts: opts, held: map[string]*hold{}}
}

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.opts.OpTimeout)
}

// Lock tries once to take the lock name: SET name token NX PX ttl. It
// returns ErrLocked when another holder has it, and a wrapped Redis error
// when the store fails.
func (s *Store) Lock(name string) error {
	name = s.opts.Prefix + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.held[name]; ok {
		h.depth++
		return nil
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go 1.24+)
	token := hex.EncodeToString(raw[:])
	ctx, cancel := s.ctx()
	defer cancel()
	ok, err := s.client.SetNX(ctx, name, token, s.opts.LockTTL).Result()
	if err != nil {
		return fmt.Errorf("redisstore: lock %q: %w", name, err)
	}
	if !ok {
		return ErrLocked
	}
	s.held[name] = &hold{token: token, depth: 1}
	return nil
}

// Unlock releases one level of the lock name; the last level deletes the
// key if, and only if, it still holds this holder's token.
func (s *Store) Unlock(name string) error {
	name = s.opts.Prefix + name
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.held[name]
	if !ok {
		return ErrNotHeld
	}
	if h.depth--; h.depth > 0 {
		return nil
	}
	delete(s.held, name)
	ctx, cancel := s.ctx()
	defer cancel()
	n, err := unlockScript.Run(ctx, s.client, []string{name}, h.token).Int()
	if err != nil {
		return fmt.Errorf("redisstore: unlock %q: %w", name, err)
	}
	if n == 0 {
		return ErrLockLost
	}
	return nil
}

// GetData returns the value at name, or nil when there is none.
func (s *Store) GetData(name string) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	b, err := s.client.Get(ctx, s.opts.Prefix+name).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: get %q: %w", name, err)
	}
	return b, nil
}

// SetData stores data at name, without expiry.
func (s *Store) SetData(name string, data []byte) error {
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.client.Set(ctx, s.opts.Prefix+name, data, s.opts.DataTTL).Err(); err != nil {
		return fmt.Errorf("redisstore: set %q: %w", name, err)
	}
	return nil
}
