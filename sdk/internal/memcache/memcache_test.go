package memcache

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCacheFreshStaleAndGone(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	c := New[string](10, time.Minute, time.Hour, clk.now)
	c.Set("k", "v")
	tests := []struct {
		after          time.Duration
		wantFresh      bool
		wantStale      bool
		wantStaleAgeAt time.Duration
	}{
		{0, true, true, 0},
		{59 * time.Second, true, true, 59 * time.Second},
		{time.Minute, false, true, time.Minute},
		{time.Minute + time.Hour, false, true, time.Minute + time.Hour},
		{time.Minute + time.Hour + time.Second, false, false, 0},
	}
	start := clk.now()
	for _, tt := range tests {
		clk.t = start.Add(tt.after)
		if _, ok := c.Get("k"); ok != tt.wantFresh {
			t.Errorf("after %s: Get ok = %v, want %v", tt.after, ok, tt.wantFresh)
		}
		v, age, ok := c.GetStale("k")
		if ok != tt.wantStale || (ok && (v != "v" || age != tt.wantStaleAgeAt)) {
			t.Errorf("after %s: GetStale = %q, %s, %v; want stale %v at age %s", tt.after, v, age, ok, tt.wantStale, tt.wantStaleAgeAt)
		}
	}
	if c.Len() != 0 {
		t.Errorf("an entry past MaxStale is still held: Len = %d", c.Len())
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[int](3, time.Minute, 0, nil)
	for i := range 3 {
		c.Set(fmt.Sprint(i), i)
	}
	c.Get("0") // 1 is now the least recently used
	c.Set("3", 3)
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want the bound 3", c.Len())
	}
	for key, want := range map[string]bool{"0": true, "1": false, "2": true, "3": true} {
		if _, ok := c.Get(key); ok != want {
			t.Errorf("Get(%s) ok = %v, want %v", key, ok, want)
		}
	}
}

func TestCacheInvalidateKeepsStale(t *testing.T) {
	c := New[int](3, time.Minute, time.Minute, nil)
	c.Set("a", 1)
	c.Invalidate()
	if _, ok := c.Get("a"); ok {
		t.Error("Get after Invalidate found a fresh entry")
	}
	if v, _, ok := c.GetStale("a"); !ok || v != 1 {
		t.Errorf("GetStale after Invalidate = %d, %v; want 1, true", v, ok)
	}
	c.Set("a", 2)
	if v, ok := c.Get("a"); !ok || v != 2 {
		t.Errorf("Get after a new Set = %d, %v; want 2, true", v, ok)
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := New[int](64, time.Minute, time.Minute, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				key := fmt.Sprint((g*7 + i) % 100)
				c.Set(key, i)
				c.Get(key)
				c.GetStale(key)
				if i%100 == 0 {
					c.Invalidate()
				}
			}
		})
	}
	wg.Wait()
	if c.Len() > 64 {
		t.Fatalf("Len = %d exceeds the bound 64", c.Len())
	}
}
