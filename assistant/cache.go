package assistant

import (
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// cachedAnswer is what the L1 cache keeps of a successful upstream answer:
// the answer, escaped for JSON, and the chunks it was based on.
type cachedAnswer struct {
	answerJSON []byte
	hits       []hit
}

// lruCache is the L1 query-result cache: bounded by entry count (least
// recently used goes first) and by age (entries older than ttl are misses).
// Only successful upstream answers are put in it.
type lruCache struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	items map[string]*cacheEntry
	head  cacheEntry // sentinel of a circular list; head.next is the newest
}

type cacheEntry struct {
	key        string
	val        cachedAnswer
	expires    time.Time // zero when ttl is 0
	prev, next *cacheEntry
}

// newLRUCache returns a cache of at most size entries; size 0 gives a cache
// that keeps nothing.
func newLRUCache(size int, ttl time.Duration) *lruCache {
	c := &lruCache{size: size, ttl: ttl, items: make(map[string]*cacheEntry, min(size, 4096))}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *lruCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (c *lruCache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}

func (c *lruCache) moveToFront(e *cacheEntry) {
	c.unlink(e)
	c.pushFront(e)
}

// get returns the entry for key if present and not expired.
func (c *lruCache) get(key string, now time.Time) (cachedAnswer, bool) {
	if c.size == 0 {
		return cachedAnswer{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return cachedAnswer{}, false
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		c.unlink(e)
		delete(c.items, key)
		return cachedAnswer{}, false
	}
	c.moveToFront(e)
	return e.val, true
}

// put stores val under key, evicting the least recently used entry when full.
func (c *lruCache) put(key string, val cachedAnswer, now time.Time) {
	if c.size == 0 {
		return
	}
	var exp time.Time
	if c.ttl > 0 {
		exp = now.Add(c.ttl)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.val, e.expires = val, exp
		c.moveToFront(e)
		return
	}
	var e *cacheEntry
	if len(c.items) >= c.size {
		e = c.head.prev // the oldest: reuse it
		c.unlink(e)
		delete(c.items, e.key)
	} else {
		e = new(cacheEntry)
	}
	e.key, e.val, e.expires = key, val, exp
	c.items[key] = e
	c.pushFront(e)
}

// normalizeQuestion is the L1 cache key: lower case, runs of white space
// collapsed to one space, surrounding space and trailing ?!. removed, so that
// "What is a Circuit Breaker?" and "what is a circuit   breaker" share an
// entry.
func normalizeQuestion(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	space := false
	for _, r := range q {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	s := b.String()
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if r != '?' && r != '!' && r != '.' && !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}
