package switchyardprovider_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/switchyardhq/switchyard/sdk"
	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
	switchyardprovider "github.com/switchyardhq/switchyard/sdk/openfeature"
)

var serverBin string

func TestMain(m *testing.M) { testenv.RunWithServer(m, &serverBin) }

// events records the OpenFeature events a client's handlers receive.
type events struct {
	mu  sync.Mutex
	got []openfeature.EventType
}

func (e *events) watch(c *openfeature.Client) {
	for _, typ := range []openfeature.EventType{openfeature.ProviderReady, openfeature.ProviderStale,
		openfeature.ProviderError, openfeature.ProviderConfigChange} {
		cb := func(openfeature.EventDetails) {
			e.mu.Lock()
			e.got = append(e.got, typ)
			e.mu.Unlock()
		}
		c.AddHandler(typ, &cb)
	}
}

func (e *events) all() []openfeature.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]openfeature.EventType(nil), e.got...)
}

func (e *events) count(typ openfeature.EventType) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, t := range e.got {
		if t == typ {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestProviderEndToEnd drives the provider through OpenFeature's client against a
// running Switchyard: evaluations, a change (CONFIGURATION_CHANGED), the server going
// away (STALE, answers from the snapshot) and coming back (READY).
func TestProviderEndToEnd(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	srv.PutFlag("new-checkout", `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"team":"payments"}}`)
	srv.PutFlag("banner", `{"state":"ENABLED","variants":{"winter":"Winter sale","summer":"Summer sale"},"defaultVariant":"winter"}`)
	srv.PutFlag("limit", `{"state":"ENABLED","variants":{"low":10,"high":100},"defaultVariant":"low","targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"high"]}}`)
	srv.PutFlag("ratio", `{"state":"ENABLED","variants":{"a":0.25},"defaultVariant":"a"}`)
	srv.PutFlag("layout", `{"state":"ENABLED","variants":{"grid":{"columns":3}},"defaultVariant":"grid"}`)
	proxy := testenv.StartProxy(t, srv.Addr())

	p, err := switchyardprovider.New(sdk.Options{
		BaseURL: proxy.URL(), Logger: quiet(),
		Primary: sdk.BreakerOptions{TripAfter: 1, Cooldown: 200 * time.Millisecond, MaxCooldown: 400 * time.Millisecond},
		Sync:    sdk.SyncOptions{Enabled: true, PollInterval: time.Hour, ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	domain := t.Name()
	if err := openfeature.SetNamedProviderAndWait(domain, p); err != nil {
		t.Fatalf("SetNamedProviderAndWait: %v", err)
	}
	t.Cleanup(func() { p.Shutdown() })
	client := openfeature.NewClient(domain)
	var seen events
	seen.watch(client)
	if got := client.State(); got != openfeature.ReadyState {
		t.Fatalf("state %s, want READY", got)
	}
	ctx := context.Background()
	user := openfeature.NewEvaluationContext("user-1", map[string]any{"plan": "pro"})

	b, err := client.BooleanValueDetails(ctx, "new-checkout", false, user)
	if err != nil || !b.Value || b.Reason != openfeature.StaticReason || b.Variant != "on" || b.FlagMetadata["team"] != "payments" {
		t.Errorf("boolean: %+v, %v; want true, STATIC, on, team payments", b, err)
	}
	if s, err := client.StringValue(ctx, "banner", "", user); err != nil || s != "Winter sale" {
		t.Errorf("string: %q, %v", s, err)
	}
	if i, err := client.IntValueDetails(ctx, "limit", 0, user); err != nil || i.Value != 100 || i.Reason != openfeature.TargetingMatchReason {
		t.Errorf("int: %+v, %v; want 100 by TARGETING_MATCH", i, err)
	}
	if f, err := client.FloatValue(ctx, "ratio", 0, user); err != nil || f != 0.25 {
		t.Errorf("float: %v, %v", f, err)
	}
	if o, err := client.ObjectValue(ctx, "layout", nil, user); err != nil || fmt.Sprint(o) != "map[columns:3]" {
		t.Errorf("object: %v, %v", o, err)
	}
	nf, err := client.BooleanValueDetails(ctx, "missing", true, user)
	if err == nil || !nf.Value || nf.ErrorCode != openfeature.FlagNotFoundCode {
		t.Errorf("missing flag: %+v, %v; want the default and FLAG_NOT_FOUND", nf, err)
	}
	cached, _ := client.BooleanValueDetails(ctx, "new-checkout", false, user)
	if cached.Reason != openfeature.CachedReason {
		t.Errorf("second evaluation: reason %s, want CACHED", cached.Reason)
	}

	srv.PutFlag("banner", `{"state":"ENABLED","variants":{"winter":"Winter sale","summer":"Summer sale"},"defaultVariant":"summer"}`)
	waitFor(t, "PROVIDER_CONFIGURATION_CHANGED", func() bool { return seen.count(openfeature.ProviderConfigChange) >= 1 })
	if s, _ := client.StringValue(ctx, "banner", "", user); s != "Summer sale" {
		t.Errorf("after the change: %q, want Summer sale", s)
	}

	proxy.SetMode(testenv.Down)
	other := openfeature.NewEvaluationContext("user-2", nil) // not cached
	r, err := client.BooleanValueDetails(ctx, "new-checkout", false, other)
	if err != nil || !r.Value || r.Reason != "STALE" {
		t.Errorf("server down: %+v, %v; want true from the snapshot, reason STALE", r, err)
	}
	waitFor(t, "PROVIDER_STALE", func() bool { return seen.count(openfeature.ProviderStale) >= 1 })
	if got := client.State(); got != openfeature.StaleState {
		t.Errorf("state with the server down: %s, want STALE", got)
	}

	proxy.SetMode(testenv.Pass)
	waitFor(t, "PROVIDER_READY again", func() bool {
		client.BooleanValue(ctx, "new-checkout", false, openfeature.NewEvaluationContext(fmt.Sprint(time.Now().UnixNano()), nil))
		return client.State() == openfeature.ReadyState
	})
	t.Logf("events: %v", seen.all())
}

// TestProviderError: with no snapshot and no secondary, a provider whose server is down
// is in ERROR, still answers with defaults, and becomes READY when the server is up.
func TestProviderError(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	srv.PutFlag("new-checkout", `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`)
	proxy := testenv.StartProxy(t, srv.Addr())
	proxy.SetMode(testenv.Down)
	// Default breaker: the failed init does not open it, so the provider itself must
	// find out that the server is back.
	p, err := switchyardprovider.New(sdk.Options{BaseURL: proxy.URL(), Logger: quiet(),
		Sync: sdk.SyncOptions{ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	domain := t.Name()
	if err := openfeature.SetNamedProviderAndWait(domain, p); err == nil {
		t.Error("SetNamedProviderAndWait with the server down succeeded, want the init error")
	}
	t.Cleanup(func() { p.Shutdown() })
	client := openfeature.NewClient(domain)
	if got := client.State(); got != openfeature.ErrorState {
		t.Fatalf("state %s, want ERROR", got)
	}
	ctx := context.Background()
	if v, _ := client.BooleanValue(ctx, "new-checkout", false, openfeature.NewEvaluationContext("u", nil)); v {
		t.Error("with the server down the value is not the default")
	}
	proxy.SetMode(testenv.Pass)
	waitFor(t, "READY", func() bool { return client.State() == openfeature.ReadyState })
	if v, _ := client.BooleanValue(ctx, "new-checkout", false, openfeature.NewEvaluationContext("u2", nil)); !v {
		t.Error("with the server back the value is still the default")
	}
}
