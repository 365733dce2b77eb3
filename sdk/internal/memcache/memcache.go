package memcache

import (
	"container/list"
	"sync"
	"time"
)

// Cache is a bounded LRU of V keyed by string. It is safe for concurrent use.
type Cache[V any] struct {
	ttl, maxStale time.Duration
	maxEntries    int
	now           func() time.Time

	mu    sync.Mutex
	gen   uint64 // entries stored under an older generation are expired (Invalidate)
	order *list.List
	items map[string]*list.Element
}

type entry[V any] struct {
	key      string
	value    V
	storedAt time.Time
	gen      uint64
}

// New returns a cache of at most maxEntries entries (> 0), fresh for ttl (> 0) and
// servable as stale for maxStale after they expire. now is the clock (time.Now if nil).
func New[V any](maxEntries int, ttl, maxStale time.Duration, now func() time.Time) *Cache[V] {
	if maxEntries <= 0 || ttl <= 0 || maxStale < 0 {
		panic("memcache: maxEntries and ttl must be positive, maxStale not negative")
	}
	if now == nil {
		now = time.Now
	}
	return &Cache[V]{
		ttl: ttl, maxStale: maxStale, maxEntries: maxEntries, now: now,
		order: list.New(), items: make(map[string]*list.Element, min(maxEntries, 1024)),
	}
}

// Get returns the entry under key if it is still fresh, and marks it recently used.
func (c *Cache[V]) Get(key string) (v V, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.items[key]
	if !found {
		return v, false
	}
	e := el.Value.(*entry[V])
	if e.gen != c.gen || c.now().Sub(e.storedAt) >= c.ttl {
		return v, false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

// GetStale returns the entry under key, fresh or expired but within MaxStale, and how
// long ago it was stored. It is the fallback when nothing upstream answers.
func (c *Cache[V]) GetStale(key string) (v V, age time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.items[key]
	if !found {
		return v, 0, false
	}
	e := el.Value.(*entry[V])
	age = c.now().Sub(e.storedAt)
	if age > c.ttl+c.maxStale {
		c.remove(el)
		return v, 0, false
	}
	return e.value, age, true
}

// Set stores value under key as fresh, evicting the least recently used entry when full.
func (c *Cache[V]) Set(key string, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if el, found := c.items[key]; found {
		e := el.Value.(*entry[V])
		e.value, e.storedAt, e.gen = value, now, c.gen
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.maxEntries {
		c.remove(c.order.Back())
	}
	c.items[key] = c.order.PushFront(&entry[V]{key: key, value: value, storedAt: now, gen: c.gen})
}

// Invalidate expires every entry at once (the flags changed): none is fresh any more,
// all stay available to GetStale.
func (c *Cache[V]) Invalidate() {
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}

// Len returns the number of entries held, fresh or not.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *Cache[V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*entry[V])
	delete(c.items, e.key)
}
