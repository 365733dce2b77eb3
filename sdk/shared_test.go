package sdk_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/sdk"
	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

// TestRedisShared: what one replica fetched, another reads from Redis.
func TestRedisShared(t *testing.T) {
	f := newFakePrimary(t)
	prefix := testenv.RedisKeyPrefix(t)
	opts := sdk.Options{BaseURL: f.URL, Redis: sdk.RedisOptions{URL: "redis://" + testenv.RedisAddr, KeyPrefix: prefix}}
	a, b := newClient(t, opts), newClient(t, opts)
	ctx := ctxT(t)
	user := map[string]any{"targetingKey": "u1"}
	expect(t, "replica a", a.Boolean(ctx, "f", false, user), true, ofrepv1.ReasonStatic, sdk.SourcePrimary)

	rc := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr})
	defer func() { _ = rc.Close() }()
	waitFor(t, "the answer written to Redis", func() bool {
		keys, err := rc.Keys(ctx, prefix+"*").Result()
		return err == nil && len(keys) == 1
	})
	r := b.Boolean(ctx, "f", false, user)
	expect(t, "replica b", r, true, sdk.ReasonCached, sdk.SourceRedis)
	if r.EvaluatedReason != ofrepv1.ReasonStatic || r.Variant != "on" {
		t.Errorf("from Redis: %+v, want the evaluated reason and variant kept", r)
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("the primary got %d requests, want 1 (replica b read Redis)", n)
	}
	expect(t, "replica b again", b.Boolean(ctx, "f", false, user), true, sdk.ReasonCached, sdk.SourceMemory)
}

// TestSingleflight: concurrent misses for one key share one upstream call.
func TestSingleflight(t *testing.T) {
	f := newFakePrimary(t)
	f.delay.Store(int64(200 * time.Millisecond))
	c := newClient(t, sdk.Options{BaseURL: f.URL})
	ctx := ctxT(t)
	const callers = 50
	var wg sync.WaitGroup
	results := make([]sdk.Result[bool], callers)
	for i := range callers {
		wg.Go(func() {
			user := map[string]any{"targetingKey": "same", "n": 1}
			if i%2 == 0 {
				user = map[string]any{"n": 1, "targetingKey": "same"} // same context, other literal order
			}
			results[i] = c.Boolean(ctx, "f", false, user)
		})
	}
	wg.Wait()
	for i, r := range results {
		if !r.Value || r.Source != sdk.SourcePrimary && r.Source != sdk.SourceMemory {
			t.Fatalf("caller %d: %+v", i, r)
		}
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("%d concurrent misses made %d upstream calls, want 1", callers, n)
	}
	for i := range 5 {
		wg.Go(func() { c.Boolean(ctx, "f", false, map[string]any{"targetingKey": fmt.Sprint("other-", i)}) })
	}
	wg.Wait()
	if n := f.requests.Load(); n != 6 {
		t.Errorf("5 different contexts made %d more calls, want 5", n-1)
	}
}

// TestCallerDeadline: a caller that gives up gets the default at once; the shared call
// goes on for the others and fills the cache.
func TestCallerDeadline(t *testing.T) {
	f := newFakePrimary(t)
	f.delay.Store(int64(300 * time.Millisecond))
	c := newClient(t, sdk.Options{BaseURL: f.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := c.Boolean(ctx, "f", false, nil)
	if elapsed := time.Since(start); elapsed > 250*time.Millisecond || r.Source != sdk.SourceDefault || r.ErrorCode != ofrepv1.ErrorGeneral {
		t.Errorf("a caller with a 50ms deadline got %+v after %s, want the default soon", r, elapsed)
	}
	waitFor(t, "the shared call to fill the cache", func() bool {
		return c.Boolean(ctxT(t), "f", false, nil).Source == sdk.SourceMemory
	})
	if n := f.requests.Load(); n != 1 {
		t.Errorf("%d upstream calls, want 1", n)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
