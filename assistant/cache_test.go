package assistant

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"brownout/contract"
)

// len returns the number of entries, expired ones included.
func (c *lruCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := newLRUCache(3, 0)
	now := time.Unix(1000, 0)
	for _, k := range []string{"a", "b", "c"} {
		c.put(k, cachedAnswer{answerJSON: []byte(k)}, now)
	}
	if _, ok := c.get("a", now); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("d", cachedAnswer{answerJSON: []byte("d")}, now) // evicts b
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := c.get(k, now); ok != want {
			t.Errorf("get(%q) present = %v, want %v", k, ok, want)
		}
	}
	if c.len() != 3 {
		t.Errorf("len = %d, want 3", c.len())
	}
	c.put("c", cachedAnswer{answerJSON: []byte("c2")}, now) // update in place
	if v, _ := c.get("c", now); string(v.answerJSON) != "c2" || c.len() != 3 {
		t.Errorf("update: %q, len %d", string(v.answerJSON), c.len())
	}
}

func TestLRUTTL(t *testing.T) {
	t.Parallel()
	c := newLRUCache(10, time.Minute)
	t0 := time.Unix(1000, 0)
	c.put("q", cachedAnswer{answerJSON: []byte("x")}, t0)
	if _, ok := c.get("q", t0.Add(time.Minute-time.Nanosecond)); !ok {
		t.Error("entry gone before its TTL")
	}
	if _, ok := c.get("q", t0.Add(time.Minute)); ok {
		t.Error("entry still served at its TTL")
	}
	if c.len() != 0 {
		t.Errorf("expired entry kept: len %d", c.len())
	}
	// A refresh restarts the TTL.
	c.put("q", cachedAnswer{answerJSON: []byte("x")}, t0)
	c.put("q", cachedAnswer{answerJSON: []byte("y")}, t0.Add(50*time.Second))
	if v, ok := c.get("q", t0.Add(100*time.Second)); !ok || string(v.answerJSON) != "y" {
		t.Errorf("refreshed entry = %v, %v", v, ok)
	}
}

func TestLRUDisabled(t *testing.T) {
	t.Parallel()
	c := newLRUCache(0, 0)
	c.put("q", cachedAnswer{answerJSON: []byte("x")}, time.Now())
	if _, ok := c.get("q", time.Now()); ok || c.len() != 0 {
		t.Error("a size-0 cache kept an entry")
	}
}

func TestLRUManyKeys(t *testing.T) {
	t.Parallel()
	c := newLRUCache(100, 0)
	now := time.Now()
	for i := range 1000 {
		c.put(fmt.Sprint(i), cachedAnswer{answerJSON: []byte(fmt.Sprint(i))}, now)
	}
	if c.len() != 100 {
		t.Fatalf("len = %d", c.len())
	}
	for i := range 1000 {
		_, ok := c.get(fmt.Sprint(i), now)
		if want := i >= 900; ok != want {
			t.Fatalf("key %d present = %v, want %v", i, ok, want)
		}
	}
}

func TestNormalizeQuestion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"What is a Circuit Breaker?":         "what is a circuit breaker",
		"  what IS a circuit\t\nbreaker ?! ": "what is a circuit breaker",
		"Ünïcode   QUESTION...":              "ünïcode question",
		"???":                                "",
		"a?b":                                "a?b",
	} {
		if got := normalizeQuestion(in); got != want {
			t.Errorf("normalizeQuestion(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCacheTTLInService plays the seed's 10-minute cache lifetime in
// virtual time: an answer is served from the cache up to the last
// nanosecond of its TTL and not after.
func TestCacheTTLInService(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		up := &upstream{}
		cfg := testConfig()
		cfg.CacheTTL = 10 * time.Minute
		s := newTestService(t, cfg, up)
		answerOf(t, ask(t, s, onTopic))
		cachedAt := time.Now()
		up.set(500, `{"error":"x"}`)
		time.Sleep(time.Until(cachedAt.Add(cfg.CacheTTL - time.Nanosecond)))
		if got := classify(t, ask(t, s, onTopic)); got != contract.OutcomeCache {
			t.Fatalf("1 ns before the TTL: %s, want l1_cache", got)
		}
		time.Sleep(time.Until(cachedAt.Add(cfg.CacheTTL + time.Nanosecond)))
		if got := classify(t, ask(t, s, onTopic)); got != contract.OutcomeExcerpts {
			t.Errorf("1 ns after the TTL: %s, want excerpts", got)
		}
	})
}
