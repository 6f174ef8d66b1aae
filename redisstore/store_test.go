package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"brownout/redisstore"
	"brownout/redisstore/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backend is one Redis the store tests run against.
type backend struct {
	name   string
	client *redis.Client
}

// backends returns the embedded server on loopback and, when
// BROWNOUT_TEST_REDIS names one, a real redis-server. In CI (CI=true) a
// named server that does not answer fails the test.
func backends(t *testing.T) []backend {
	t.Helper()
	e := redisstore.NewEmbedded()
	t.Cleanup(e.Close)
	url, err := e.Listen()
	if err != nil {
		t.Fatal(err)
	}
	bs := []backend{{"embedded", connect(t, url)}}
	if c := redistest.Real(t); c != nil {
		bs = append(bs, backend{"real", c})
	}
	return bs
}

func connect(t *testing.T, url string) *redis.Client {
	t.Helper()
	c, err := redisstore.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// key returns a key unique to the test and backend, so runs against a
// shared real server do not see each other.
func key(t *testing.T, suffix string) string {
	return "brownout-test:" + t.Name() + ":" + suffix
}

func TestLockIsExclusiveAndReentrant(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			k := key(t, "mutex")
			t.Cleanup(func() { b.client.Del(context.Background(), k) })
			a, other := redisstore.New(b.client, redisstore.Options{}), redisstore.New(b.client, redisstore.Options{})
			if err := a.Lock(k); err != nil {
				t.Fatalf("first Lock: %v", err)
			}
			if err := other.Lock(k); !errors.Is(err, redisstore.ErrLocked) {
				t.Fatalf("Lock by another holder = %v, want redisstore.ErrLocked", err)
			}
			if err := other.Unlock(k); !errors.Is(err, redisstore.ErrNotHeld) {
				t.Fatalf("Unlock by another holder = %v, want redisstore.ErrNotHeld", err)
			}
			if err := a.Lock(k); err != nil {
				t.Fatalf("re-entrant Lock: %v", err)
			}
			if err := a.Unlock(k); err != nil {
				t.Fatalf("inner Unlock: %v", err)
			}
			if err := other.Lock(k); !errors.Is(err, redisstore.ErrLocked) {
				t.Fatalf("Lock after inner Unlock = %v, want redisstore.ErrLocked (outer level still held)", err)
			}
			if err := a.Unlock(k); err != nil {
				t.Fatalf("outer Unlock: %v", err)
			}
			if err := other.Lock(k); err != nil {
				t.Fatalf("Lock after release: %v", err)
			}
			if err := other.Unlock(k); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A holder whose lock expired and was taken by another must not release
// the new holder's lock; and the lock carries an expiry (PX) so that a
// dead holder's lock goes away.
func TestLockCannotBeReleasedByAnotherHolder(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			k := key(t, "mutex")
			t.Cleanup(func() { b.client.Del(ctx, k) })
			ttl := 2 * time.Second
			a, other := redisstore.New(b.client, redisstore.Options{LockTTL: ttl}), redisstore.New(b.client, redisstore.Options{LockTTL: ttl})
			if err := a.Lock(k); err != nil {
				t.Fatal(err)
			}
			pttl, err := b.client.PTTL(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if pttl <= 0 || pttl > ttl {
				t.Fatalf("lock PTTL = %v, want in (0, %v]", pttl, ttl)
			}
			// The key going away is what its expiry does; delete it rather
			// than wait in real time (the expiry itself is checked in
			// virtual time below).
			b.client.Del(ctx, k)
			if err := other.Lock(k); err != nil {
				t.Fatalf("Lock after expiry: %v", err)
			}
			if err := a.Unlock(k); !errors.Is(err, redisstore.ErrLockLost) {
				t.Fatalf("Unlock of an expired lock = %v, want redisstore.ErrLockLost", err)
			}
			if n, _ := b.client.Exists(ctx, k).Result(); n != 1 {
				t.Fatal("the stale holder's Unlock deleted the new holder's lock")
			}
			if err := other.Unlock(k); err != nil {
				t.Fatalf("new holder's Unlock: %v", err)
			}
		})
	}
}

// The embedded server's TTLs follow the clock, so a dead holder's lock
// expires after LockTTL. A socket cannot live in a synctest bubble, so the
// client reaches the server through an in-memory pipe.
func TestEmbeddedLockExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := redisstore.NewEmbedded()
		defer e.Close()
		c := e.PipeClient()
		defer c.Close()
		dead, live := redisstore.New(c, redisstore.Options{LockTTL: 5 * time.Second}), redisstore.New(c, redisstore.Options{})
		if err := dead.Lock("m"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5*time.Second - time.Millisecond)
		if err := live.Lock("m"); !errors.Is(err, redisstore.ErrLocked) {
			t.Fatalf("Lock just before expiry = %v, want redisstore.ErrLocked", err)
		}
		time.Sleep(2 * time.Millisecond)
		if err := live.Lock("m"); err != nil {
			t.Fatalf("Lock after expiry: %v", err)
		}
		if err := live.Unlock("m"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestData(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			k := key(t, "state")
			t.Cleanup(func() { b.client.Del(context.Background(), k) })
			s := redisstore.New(b.client, redisstore.Options{})
			if got, err := s.GetData(k); err != nil || got != nil {
				t.Fatalf("GetData of a missing key = %q, %v; want nil, nil", got, err)
			}
			want := `{"state":2}`
			if err := s.SetData(k, []byte(want)); err != nil {
				t.Fatal(err)
			}
			if got, err := s.GetData(k); err != nil || string(got) != want {
				t.Fatalf("GetData = %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestStoreErrors(t *testing.T) {
	e := redisstore.NewEmbedded()
	defer e.Close()
	url, err := e.Listen()
	if err != nil {
		t.Fatal(err)
	}
	s := redisstore.New(connect(t, url), redisstore.Options{})
	e.SetError("LOADING Redis is loading the dataset in memory")
	for name, err := range map[string]error{
		"Lock":    s.Lock("m"),
		"SetData": s.SetData("k", []byte("x")),
	} {
		if err == nil || errors.Is(err, redisstore.ErrLocked) {
			t.Errorf("%s on a failing server = %v, want a store error", name, err)
		}
	}
	if _, err := s.GetData("k"); err == nil {
		t.Error("GetData on a failing server succeeded")
	}
}

func TestConnectErrors(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:1"} {
		if c, err := redisstore.Connect(context.Background(), url); err == nil {
			_ = c.Close()
			t.Errorf("redisstore.Connect(%q) succeeded", url)
		}
	}
}
