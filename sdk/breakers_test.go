package sdk_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
	"github.com/switchyardhq/switchyard/sdk"
	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

// hookLog records the breaker hooks' calls.
type hookLog struct {
	mu     sync.Mutex
	trips  []trip
	closes []time.Duration
}

type trip struct {
	layer    sdk.Source
	err      error
	failures uint32
	cooldown time.Duration
}

func (h *hookLog) install(o *sdk.Options) {
	o.OnTrip = func(layer sdk.Source, err error, failures uint32, cooldown time.Duration) {
		h.mu.Lock()
		h.trips = append(h.trips, trip{layer, err, failures, cooldown})
		h.mu.Unlock()
	}
	o.OnClose = func(layer sdk.Source, cooldown time.Duration) {
		h.mu.Lock()
		h.closes = append(h.closes, cooldown)
		h.mu.Unlock()
	}
}

func (h *hookLog) snapshot() ([]trip, []time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]trip(nil), h.trips...), append([]time.Duration(nil), h.closes...)
}

// primaryClient is a client of a fake primary with no cache, so that every evaluation
// reaches the primary, and its hooks recorded.
func primaryClient(t *testing.T, f *fakePrimary, b sdk.BreakerOptions) (*sdk.Client, *hookLog) {
	h := &hookLog{}
	o := sdk.Options{BaseURL: f.URL, Cache: sdk.CacheOptions{Disabled: true}, Primary: b}
	h.install(&o)
	return newClient(t, o), h
}

func TestBreakerTripAfter(t *testing.T) {
	for _, tt := range []struct {
		name      string
		tripAfter uint32
		want      int
	}{{"default", 0, sdk.DefaultTripAfter}, {"one", 1, 1}, {"three", 3, 3}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePrimary(t)
			f.status.Store(http.StatusInternalServerError)
			c, hooks := primaryClient(t, f, sdk.BreakerOptions{TripAfter: tt.tripAfter})
			ctx := ctxT(t)
			for i := 1; i <= tt.want; i++ {
				if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerClosed {
					t.Fatalf("after %d failures the breaker is %s, want closed", i-1, got)
				}
				r := c.Boolean(ctx, "f", false, nil)
				expect(t, "failing primary", r, false, sdk.ReasonError, sdk.SourceDefault)
			}
			if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerOpen {
				t.Fatalf("after %d failures the breaker is %s, want open", tt.want, got)
			}
			before := f.requests.Load()
			c.Boolean(ctx, "f", false, nil)
			if f.requests.Load() != before {
				t.Error("an open breaker let a request through")
			}
			trips, _ := hooks.snapshot()
			if len(trips) != 1 || trips[0].failures != uint32(tt.want) || trips[0].layer != sdk.SourcePrimary ||
				trips[0].cooldown != sdk.DefaultCooldown || !strings.Contains(trips[0].err.Error(), "HTTP 500") {
				t.Errorf("OnTrip calls = %+v, want one for the primary with %d failures, cooldown %s and the HTTP 500", trips, tt.want, sdk.DefaultCooldown)
			}
		})
	}
}

func TestBreakerCallTimeout(t *testing.T) {
	f := newFakePrimary(t)
	f.status.Store(0) // stall
	c, _ := primaryClient(t, f, sdk.BreakerOptions{CallTimeout: 150 * time.Millisecond, TripAfter: 2})
	ctx := ctxT(t)
	start := time.Now()
	r := c.Boolean(ctx, "f", false, nil)
	elapsed := time.Since(start)
	if elapsed < 150*time.Millisecond || elapsed > 3*time.Second || !strings.Contains(r.ErrorMessage, "deadline exceeded") {
		t.Errorf("a stalled primary answered after %s with %q; want about the 150ms CallTimeout and a deadline error", elapsed, r.ErrorMessage)
	}
	c.Boolean(ctx, "f", false, nil)
	if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerOpen {
		t.Fatalf("after 2 timeouts the breaker is %s, want open (timeouts count)", got)
	}
	start = time.Now()
	c.Boolean(ctx, "f", false, nil)
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("with the breaker open an evaluation took %s; want no wait on the primary", elapsed)
	}
}

func TestBreakerCooldownAndClose(t *testing.T) {
	f := newFakePrimary(t)
	f.status.Store(http.StatusServiceUnavailable)
	const cooldown = 300 * time.Millisecond
	c, hooks := primaryClient(t, f, sdk.BreakerOptions{TripAfter: 1, Cooldown: cooldown})
	ctx := ctxT(t)
	c.Boolean(ctx, "f", false, nil)
	tripped := time.Now()
	f.status.Store(http.StatusOK)
	if r := c.Boolean(ctx, "f", false, nil); r.Source != sdk.SourceDefault {
		t.Fatalf("during the cooldown the answer came from %s, want the default", r.Source)
	}
	time.Sleep(cooldown - time.Since(tripped) + 50*time.Millisecond)
	expect(t, "after the cooldown", c.Boolean(ctx, "f", false, nil), true, ofrepv1.ReasonStatic, sdk.SourcePrimary)
	if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerClosed {
		t.Errorf("after a successful probe the breaker is %s, want closed", got)
	}
	if _, closes := hooks.snapshot(); len(closes) != 1 || closes[0] != cooldown {
		t.Errorf("OnClose calls = %v, want one with the cooldown %s", closes, cooldown)
	}
}

func TestBreakerMaxCooldownGrowth(t *testing.T) {
	f := newFakePrimary(t)
	f.status.Store(http.StatusInternalServerError)
	c, hooks := primaryClient(t, f, sdk.BreakerOptions{TripAfter: 1, Cooldown: 40 * time.Millisecond, MaxCooldown: 100 * time.Millisecond})
	ctx := ctxT(t)
	want := []time.Duration{40 * time.Millisecond, 80 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if trips, _ := hooks.snapshot(); len(trips) >= len(want) {
			break
		}
		c.Boolean(ctx, "f", false, nil)
		time.Sleep(5 * time.Millisecond)
	}
	trips, _ := hooks.snapshot()
	if len(trips) < len(want) {
		t.Fatalf("%d trips, want %d", len(trips), len(want))
	}
	for i, w := range want {
		if trips[i].cooldown != w {
			t.Errorf("trip %d: cooldown %s, want %s (doubling from Cooldown up to MaxCooldown)", i+1, trips[i].cooldown, w)
		}
	}
}

func TestBreakerHalfOpenProbes(t *testing.T) {
	f := newFakePrimary(t)
	f.status.Store(http.StatusInternalServerError)
	c, _ := primaryClient(t, f, sdk.BreakerOptions{TripAfter: 1, Cooldown: 50 * time.Millisecond, HalfOpenProbes: 2})
	ctx := ctxT(t)
	c.Boolean(ctx, "f", false, nil)
	f.status.Store(http.StatusOK)
	time.Sleep(80 * time.Millisecond)
	expect(t, "first probe", c.Boolean(ctx, "f", false, nil), true, ofrepv1.ReasonStatic, sdk.SourcePrimary)
	if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerHalfOpen {
		t.Fatalf("after 1 of 2 probes the breaker is %s, want half-open", got)
	}
	expect(t, "second probe", c.Boolean(ctx, "f", false, nil), true, ofrepv1.ReasonStatic, sdk.SourcePrimary)
	if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerClosed {
		t.Fatalf("after 2 of 2 probes the breaker is %s, want closed", got)
	}
}

func TestBreakerDefaultTrigger(t *testing.T) {
	for _, tt := range []struct {
		status    int
		wantTrip  bool
		wantCode  string
		wantSrc   sdk.Source
		wantValue bool
	}{
		{http.StatusNotFound, false, ofrepv1.ErrorFlagNotFound, sdk.SourcePrimary, false},
		{http.StatusBadRequest, false, ofrepv1.ErrorInvalidContext, sdk.SourcePrimary, false},
		{http.StatusUnauthorized, false, ofrepv1.ErrorGeneral, sdk.SourceDefault, false},
		{http.StatusForbidden, false, ofrepv1.ErrorGeneral, sdk.SourceDefault, false},
		{http.StatusTooManyRequests, true, ofrepv1.ErrorGeneral, sdk.SourceDefault, false},
		{http.StatusInternalServerError, true, ofrepv1.ErrorGeneral, sdk.SourceDefault, false},
		{http.StatusBadGateway, true, ofrepv1.ErrorGeneral, sdk.SourceDefault, false},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			f := newFakePrimary(t)
			f.status.Store(int64(tt.status))
			c, _ := primaryClient(t, f, sdk.BreakerOptions{})
			ctx := ctxT(t)
			for range 2 * sdk.DefaultTripAfter {
				r := c.Boolean(ctx, "f", false, nil)
				if r.ErrorCode != tt.wantCode || r.Source != tt.wantSrc {
					t.Fatalf("result %+v, want error %s from %s", r, tt.wantCode, tt.wantSrc)
				}
			}
			want := sdk.BreakerClosed
			if tt.wantTrip {
				want = sdk.BreakerOpen
			}
			if got := c.BreakerState(sdk.SourcePrimary); got != want {
				t.Errorf("after %d HTTP %d the breaker is %s, want %s", 2*sdk.DefaultTripAfter, tt.status, got, want)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		f := newFakePrimary(t)
		f.Close()
		c, _ := primaryClient(t, f, sdk.BreakerOptions{})
		for range sdk.DefaultTripAfter {
			c.Boolean(ctxT(t), "f", false, nil)
		}
		if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerOpen {
			t.Errorf("after %d refused connections the breaker is %s, want open", sdk.DefaultTripAfter, got)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		f := newFakePrimary(t)
		c, _ := primaryClient(t, f, sdk.BreakerOptions{TripAfter: 1})
		r := c.Boolean(ctxT(t), "f", true, map[string]any{"bad": func() {}})
		if r.ErrorCode != ofrepv1.ErrorInvalidContext || r.Value != true || f.requests.Load() != 0 {
			t.Errorf("unencodable context: %+v after %d requests, want INVALID_CONTEXT, the default, no request", r, f.requests.Load())
		}
		if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerClosed {
			t.Errorf("bad input left the breaker %s, want closed", got)
		}
	})
}

func TestDefaultCounts(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"FLAG_NOT_FOUND", &ofrephttp.EvaluationError{Status: 404, ErrorCode: ofrepv1.ErrorFlagNotFound}, false},
		{"INVALID_CONTEXT", &ofrephttp.EvaluationError{Status: 400, ErrorCode: ofrepv1.ErrorInvalidContext}, false},
		{"HTTP 401", &ofrephttp.HTTPError{Status: 401}, false},
		{"HTTP 500", &ofrephttp.HTTPError{Status: 500}, true},
		{"HTTP 429", &ofrephttp.HTTPError{Status: 429}, true},
		{"bad input", sdk.ErrBadInput, false},
		{"deadline", errors.Join(errors.New("x"), errDeadline), true},
		{"unknown", errors.New("something"), false},
	} {
		if got := sdk.DefaultCounts(tt.err); got != tt.want {
			t.Errorf("DefaultCounts(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBreakerCustomCounts(t *testing.T) {
	f := newFakePrimary(t)
	f.status.Store(http.StatusNotFound)
	c, _ := primaryClient(t, f, sdk.BreakerOptions{TripAfter: 2, Counts: func(error) bool { return true }})
	c.Boolean(ctxT(t), "f", false, nil)
	c.Boolean(ctxT(t), "f", false, nil)
	if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerOpen {
		t.Errorf("a trigger counting every error left the breaker %s after 2 HTTP 404, want open", got)
	}
	f2 := newFakePrimary(t)
	f2.status.Store(http.StatusInternalServerError)
	c2, _ := primaryClient(t, f2, sdk.BreakerOptions{TripAfter: 1, Counts: func(error) bool { return false }})
	for range 3 {
		c2.Boolean(ctxT(t), "f", false, nil)
	}
	if got := c2.BreakerState(sdk.SourcePrimary); got != sdk.BreakerClosed {
		t.Errorf("a trigger counting no error left the breaker %s after HTTP 500s, want closed", got)
	}
}

func TestRedisBreaker(t *testing.T) {
	f := newFakePrimary(t)
	proxy := testenv.StartProxy(t, testenv.RedisAddr)
	prefix := testenv.RedisKeyPrefix(t)
	h := &hookLog{}
	o := sdk.Options{
		BaseURL: f.URL, Cache: sdk.CacheOptions{Disabled: true},
		Redis: sdk.RedisOptions{URL: "redis://" + proxy.Addr(), KeyPrefix: prefix,
			Breaker: sdk.BreakerOptions{CallTimeout: 100 * time.Millisecond, TripAfter: 2}},
	}
	h.install(&o)
	c := newClient(t, o)
	ctx := ctxT(t)
	expect(t, "redis up", c.Boolean(ctx, "f", false, nil), true, ofrepv1.ReasonStatic, sdk.SourcePrimary)
	proxy.SetMode(testenv.Stall)
	start := time.Now()
	expect(t, "redis stalled", c.Boolean(ctx, "f", false, nil), true, ofrepv1.ReasonStatic, sdk.SourcePrimary)
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("with Redis stalled an evaluation took %s, want about Redis's 100ms CallTimeout", elapsed)
	}
	c.Boolean(ctx, "f", false, nil)
	if got := c.BreakerState(sdk.SourceRedis); got != sdk.BreakerOpen {
		t.Fatalf("after 2 Redis timeouts its breaker is %s, want open", got)
	}
	if trips, _ := h.snapshot(); len(trips) != 1 || trips[0].layer != sdk.SourceRedis {
		t.Errorf("OnTrip calls %+v, want one for redis", trips)
	}
	if got := c.BreakerState(sdk.SourcePrimary); got != sdk.BreakerClosed {
		t.Errorf("the primary's breaker is %s, want closed", got)
	}
}

func TestSecondaryBreaker(t *testing.T) {
	f := newFakePrimary(t)
	f.status.Store(http.StatusInternalServerError)
	proxy := testenv.StartProxy(t, testenv.PostgresAddr)
	proxy.SetMode(testenv.Down)
	c, _ := primaryClient(t, f, sdk.BreakerOptions{TripAfter: 100})
	c2 := newClient(t, sdk.Options{
		BaseURL: f.URL, Cache: sdk.CacheOptions{Disabled: true}, Primary: sdk.BreakerOptions{TripAfter: 100},
		Secondary: sdk.SecondaryOptions{PostgresDSN: "postgres://nobody@" + proxy.Addr() + "/none?sslmode=disable",
			Breaker: sdk.BreakerOptions{TripAfter: 3}},
	})
	_ = c
	for range 3 {
		expect(t, "everything down", c2.Boolean(ctxT(t), "f", false, nil), false, sdk.ReasonError, sdk.SourceDefault)
	}
	if got := c2.BreakerState(sdk.SourceSecondary); got != sdk.BreakerOpen {
		t.Errorf("after 3 refused connections the secondary's breaker is %s, want open", got)
	}
	if got := c2.State(); got != sdk.StateReady && got != sdk.StateError {
		t.Errorf("state %s", got)
	}
}
