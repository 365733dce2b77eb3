package main

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/sdk"
	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

// The flags the application evaluates, and what each user must get.
var faultFlags = map[string]string{
	"new-checkout": `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`,
	"pro-feature":  `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"on"]}}`,
	"banner":       `{"state":"ENABLED","variants":{"winter":"Winter sale","summer":"Summer sale"},"defaultVariant":"winter"}`,
	"limit":        `{"state":"ENABLED","variants":{"low":10,"high":100},"defaultVariant":"low","targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"high"]}}`,
}

func expected(key string, user int) any {
	pro := user%3 == 0 // newApp's users
	switch key {
	case "new-checkout":
		return true
	case "pro-feature":
		return pro
	case "banner":
		return "Winter sale"
	case "limit":
		if pro {
			return int64(100)
		}
		return int64(10)
	}
	return nil
}

// faultPhase is one outage (or recovery) the application lives through.
type faultPhase struct {
	name  string
	apply func()
	// what must hold at the end of the phase
	mustAnswer    []sdk.Source // layers that answered at least once
	mustNotAnswer []sdk.Source // layers that never answered
	breakers      map[sdk.Source][]sdk.BreakerState
	state         sdk.State
}

// phaseResult is what a phase measured.
type phaseResult struct {
	tally               tally
	whileOpen           tally // evaluations made while the primary's breaker was open
	breakers            map[sdk.Source]sdk.BreakerState
	state               sdk.State
	wrongValue, failure []string
}

// TestFlagloopSurvivesEveryOutage runs the example application against Switchyard (a
// child process, its evaluation module on PostgreSQL), Redis and PostgreSQL, each behind
// a fault-injecting proxy, and takes each away in turn: the primary stopped, stalled and
// answering 500s, Redis dropped, the secondary dropped, then the server process itself
// stopped with Redis and the secondary down, and everything brought back. Not one
// evaluation may fail or be wrong, the breakers must be where the outage puts them, and
// evaluations must not wait on a primary whose breaker is open.
func TestFlagloopSurvivesEveryOutage(t *testing.T) {
	db := testenv.NewDatabase(t)
	srv := testenv.StartServer(t, serverBin, "SWITCHYARD_EVALUATION_DSN="+db.DSN)
	for key, def := range faultFlags {
		srv.PutFlag(key, def)
	}
	roleDSN := testenv.ReadOnlyRole(t, db, filepath.Join("..", "..", "README.md"))
	primary := testenv.StartProxy(t, srv.Addr())
	redisProxy := testenv.StartProxy(t, testenv.RedisAddr)
	pgProxy := testenv.StartProxy(t, testenv.PostgresAddr)

	var mu sync.Mutex
	trips := map[sdk.Source]int{}
	closes := map[sdk.Source]int{}
	breaker := func(timeout time.Duration) sdk.BreakerOptions {
		return sdk.BreakerOptions{CallTimeout: timeout, TripAfter: 2, Cooldown: 250 * time.Millisecond, MaxCooldown: 500 * time.Millisecond}
	}
	const primaryTimeout = time.Second
	client, err := sdk.New(sdk.Options{
		BaseURL: primary.URL(),
		Logger:  quietLogger(),
		// Short TTLs, so that every layer gets asked many times in each phase.
		Cache: sdk.CacheOptions{TTL: 100 * time.Millisecond},
		Redis: sdk.RedisOptions{URL: "redis://" + redisProxy.Addr(), KeyPrefix: testenv.RedisKeyPrefix(t), TTL: 250 * time.Millisecond,
			Breaker: breaker(100 * time.Millisecond)},
		Primary: breaker(primaryTimeout),
		Secondary: sdk.SecondaryOptions{PostgresDSN: strings.Replace(roleDSN, testenv.PostgresAddr, pgProxy.Addr(), 1),
			Breaker: breaker(500 * time.Millisecond)},
		Sync: sdk.SyncOptions{Enabled: true, PollInterval: time.Second, SnapshotFile: filepath.Join(t.TempDir(), "snapshot.json"),
			ReconnectMin: 100 * time.Millisecond, ReconnectMax: 500 * time.Millisecond},
		OnTrip: func(layer sdk.Source, _ error, _ uint32, _ time.Duration) {
			mu.Lock()
			trips[layer]++
			mu.Unlock()
		},
		OnClose: func(layer sdk.Source, _ time.Duration) {
			mu.Lock()
			closes[layer]++
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	if err := client.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	app := newApp(client, []flagSpec{{"new-checkout", "bool"}, {"pro-feature", "bool"}, {"banner", "string"}, {"limit", "int"}},
		12, 3*time.Second)

	closed := []sdk.BreakerState{sdk.BreakerClosed}
	open := []sdk.BreakerState{sdk.BreakerOpen, sdk.BreakerHalfOpen} // half-open: between a cooldown's end and the next call
	notOpen := []sdk.BreakerState{sdk.BreakerClosed, sdk.BreakerHalfOpen}
	allClosed := map[sdk.Source][]sdk.BreakerState{sdk.SourceRedis: closed, sdk.SourcePrimary: closed, sdk.SourceSecondary: closed}
	back := func() {
		primary.SetMode(testenv.Pass)
		redisProxy.SetMode(testenv.Pass)
		pgProxy.SetMode(testenv.Pass)
	}
	phases := []faultPhase{
		{name: "healthy", apply: back, mustAnswer: []sdk.Source{sdk.SourcePrimary, sdk.SourceMemory},
			breakers: allClosed, state: sdk.StateReady},
		{name: "primary stopped", apply: func() { primary.SetMode(testenv.Down) },
			mustAnswer: []sdk.Source{sdk.SourceSecondary}, mustNotAnswer: []sdk.Source{sdk.SourcePrimary},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourcePrimary: open, sdk.SourceSecondary: closed}, state: sdk.StateStale},
		{name: "primary back", apply: back, mustAnswer: []sdk.Source{sdk.SourcePrimary},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourcePrimary: closed}, state: sdk.StateReady},
		{name: "primary stalled", apply: func() { primary.SetMode(testenv.Stall) },
			mustAnswer: []sdk.Source{sdk.SourceSecondary}, mustNotAnswer: []sdk.Source{sdk.SourcePrimary},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourcePrimary: open}, state: sdk.StateStale},
		{name: "primary back", apply: back, mustAnswer: []sdk.Source{sdk.SourcePrimary},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourcePrimary: closed}, state: sdk.StateReady},
		{name: "primary answers 500", apply: func() { primary.SetMode(testenv.HTTP500) },
			mustAnswer: []sdk.Source{sdk.SourceSecondary}, mustNotAnswer: []sdk.Source{sdk.SourcePrimary},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourcePrimary: open}, state: sdk.StateStale},
		{name: "primary back", apply: back, mustAnswer: []sdk.Source{sdk.SourcePrimary},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourcePrimary: closed}, state: sdk.StateReady},
		{name: "redis dropped", apply: func() { redisProxy.SetMode(testenv.Down) },
			mustAnswer: []sdk.Source{sdk.SourcePrimary}, mustNotAnswer: []sdk.Source{sdk.SourceRedis},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourceRedis: open, sdk.SourcePrimary: closed}, state: sdk.StateReady},
		{name: "redis back", apply: back, mustAnswer: []sdk.Source{sdk.SourceRedis},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourceRedis: closed}, state: sdk.StateReady},
		{name: "primary and secondary dropped", apply: func() { primary.SetMode(testenv.Down); pgProxy.SetMode(testenv.Down) },
			mustAnswer: []sdk.Source{sdk.SourceSnapshot}, mustNotAnswer: []sdk.Source{sdk.SourcePrimary, sdk.SourceSecondary},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourcePrimary: open, sdk.SourceSecondary: open}, state: sdk.StateStale},
		{name: "server process, redis and secondary down", apply: func() {
			srv.Stop()
			primary.SetMode(testenv.Pass) // the proxy is up; what is behind it is not
			redisProxy.SetMode(testenv.Down)
		},
			mustAnswer: []sdk.Source{sdk.SourceSnapshot}, mustNotAnswer: []sdk.Source{sdk.SourcePrimary, sdk.SourceSecondary, sdk.SourceRedis},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourcePrimary: open, sdk.SourceSecondary: open, sdk.SourceRedis: open}, state: sdk.StateStale},
		{name: "everything back", apply: func() { srv.Start(); back() }, mustAnswer: []sdk.Source{sdk.SourcePrimary},
			breakers: map[sdk.Source][]sdk.BreakerState{sdk.SourceRedis: closed, sdk.SourcePrimary: closed, sdk.SourceSecondary: notOpen},
			state:    sdk.StateReady},
	}

	rows := [][]string{{"phase", "evals", "failed", "wrong", "answered by", "p50", "p99", "p99 while primary open", "state", "redis/primary/secondary"}}
	for _, ph := range phases {
		ph.apply()
		res := runPhase(ctx, app, client, 1500*time.Millisecond)
		rows = append(rows, []string{ph.name, fmt.Sprint(res.tally.total), fmt.Sprint(res.tally.failed), fmt.Sprint(len(res.wrongValue)),
			res.tally.sources(), res.tally.percentile(50).Round(10 * time.Microsecond).String(),
			res.tally.percentile(99).Round(10 * time.Microsecond).String(), whileOpen(res.whileOpen), string(res.state),
			fmt.Sprintf("%s/%s/%s", res.breakers[sdk.SourceRedis], res.breakers[sdk.SourcePrimary], res.breakers[sdk.SourceSecondary])})
		checkPhase(t, ph, res, primaryTimeout)
	}
	var table strings.Builder
	printTable(&table, rows)
	mu.Lock()
	t.Logf("fault injection, %d users x %d flags per round:\n%s\nbreaker trips %v, closes %v", len(app.users), len(app.flags), table.String(), trips, closes)
	mu.Unlock()
	total := 0
	for _, n := range client.Stats().Served {
		total += int(n)
	}
	t.Logf("%d evaluations in all; failed evaluations: %s", total, map[bool]string{true: "none", false: "SOME (see above)"}[!t.Failed()])
}

func whileOpen(t tally) string {
	if t.total == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d evals)", t.percentile(99).Round(10*time.Microsecond), t.total)
}

// runPhase evaluates round after round for d, then waits for the breakers' settling
// round and records where everything stands.
func runPhase(ctx context.Context, a *app, c *sdk.Client, d time.Duration) phaseResult {
	res := phaseResult{}
	res.tally.reset()
	res.whileOpen.reset()
	a.report()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		openBefore := c.BreakerState(sdk.SourcePrimary) == sdk.BreakerOpen
		evs := a.tick(ctx)
		openAfter := c.BreakerState(sdk.SourcePrimary) == sdk.BreakerOpen
		for _, e := range evs {
			res.tally.add(e)
			if openBefore && openAfter {
				res.whileOpen.add(e)
			}
			if e.failed() {
				res.failure = append(res.failure, fmt.Sprintf("%s/user-%d: %s from %s", e.key, e.user, e.code, e.source))
			} else if want := expected(e.key, e.user); !reflect.DeepEqual(e.value, want) {
				res.wrongValue = append(res.wrongValue, fmt.Sprintf("%s/user-%d = %v from %s (%s), want %v", e.key, e.user, e.value, e.source, e.reason, want))
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	res.breakers = map[sdk.Source]sdk.BreakerState{}
	for _, layer := range []sdk.Source{sdk.SourceRedis, sdk.SourcePrimary, sdk.SourceSecondary} {
		res.breakers[layer] = c.BreakerState(layer)
	}
	res.state = c.State()
	return res
}

func checkPhase(t *testing.T, ph faultPhase, res phaseResult, primaryTimeout time.Duration) {
	t.Helper()
	if len(res.failure) > 0 {
		t.Errorf("%s: %d failed evaluations, e.g. %s", ph.name, len(res.failure), res.failure[0])
	}
	if len(res.wrongValue) > 0 {
		t.Errorf("%s: %d wrong values, e.g. %s", ph.name, len(res.wrongValue), res.wrongValue[0])
	}
	for _, src := range ph.mustAnswer {
		if res.tally.bySource[src] == 0 {
			t.Errorf("%s: %s never answered (answered by %s)", ph.name, src, res.tally.sources())
		}
	}
	for _, src := range ph.mustNotAnswer {
		if n := res.tally.bySource[src]; n > 0 {
			t.Errorf("%s: %s answered %d times, want none", ph.name, src, n)
		}
	}
	for layer, want := range ph.breakers {
		if got := res.breakers[layer]; !slices.Contains(want, got) {
			t.Errorf("%s: %s breaker %s, want %v", ph.name, layer, got, want)
		}
	}
	if res.state != ph.state {
		t.Errorf("%s: state %s, want %s", ph.name, res.state, ph.state)
	}
	// With the primary's breaker open nothing waits on the primary: the slowest
	// evaluation stays far below its call timeout.
	if res.whileOpen.total > 0 {
		if p99 := res.whileOpen.percentile(99); p99 > primaryTimeout/4 {
			t.Errorf("%s: p99 latency %s while the primary's breaker was open, want well under its %s call timeout", ph.name, p99, primaryTimeout)
		}
	}
}
