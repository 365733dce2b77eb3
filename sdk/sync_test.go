package sdk_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/sdk"
	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

// eventLog collects a client's events.
type eventLog struct {
	mu     sync.Mutex
	events []sdk.Event
}

func subscribe(c *sdk.Client) *eventLog {
	l := &eventLog{}
	c.Subscribe(func(ev sdk.Event) {
		l.mu.Lock()
		l.events = append(l.events, ev)
		l.mu.Unlock()
	})
	return l
}

func (l *eventLog) count(kind sdk.EventKind) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ev := range l.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func (l *eventLog) states() []sdk.State {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []sdk.State
	for _, ev := range l.events {
		if ev.Kind == sdk.EventStateChanged {
			out = append(out, ev.State)
		}
	}
	return out
}

// TestLocalEvaluationFollowsChanges: a snapshot fetched at start, kept current by the
// change stream (not by polling: the poll interval is an hour), persisted to a file.
func TestLocalEvaluationFollowsChanges(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	srv.PutFlag("new-checkout", boolFlag)
	srv.PutFlag("pro", proFlag)
	file := filepath.Join(t.TempDir(), "snapshot.json")
	c := newClient(t, sdk.Options{
		BaseURL: srv.URL(), LocalEvaluation: true,
		Sync: sdk.SyncOptions{PollInterval: time.Hour, SnapshotFile: file},
	})
	events := subscribe(c)
	ctx := ctxT(t)
	if err := c.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if got := c.State(); got != sdk.StateReady {
		t.Fatalf("state %s, want READY", got)
	}
	user := map[string]any{"targetingKey": "u1", "plan": "pro"}
	expect(t, "local", c.Boolean(ctx, "new-checkout", false, user), true, ofrepv1.ReasonStatic, sdk.SourceLocal)
	expect(t, "local targeted", c.Boolean(ctx, "pro", false, user), true, ofrepv1.ReasonTargetingMatch, sdk.SourceLocal)
	nf := c.Boolean(ctx, "nope", true, user)
	expect(t, "local missing", nf, true, sdk.ReasonError, sdk.SourceLocal)
	if nf.ErrorCode != ofrepv1.ErrorFlagNotFound {
		t.Errorf("missing flag: code %s", nf.ErrorCode)
	}
	assertFileIsServed(t, srv, file)

	srv.SetState("new-checkout", "DISABLED")
	waitFor(t, "the change to reach local evaluation", func() bool {
		return c.Boolean(ctx, "new-checkout", false, user).Reason == ofrepv1.ReasonDisabled
	})
	waitFor(t, "EventFlagsChanged", func() bool { return events.count(sdk.EventFlagsChanged) == 1 })
	assertFileIsServed(t, srv, file)

	// A burst of changes is coalesced (by the server, and by the SDK's window).
	before := c.Stats().SnapshotFetches
	for i := range 10 {
		srv.PutFlag("burst", `{"state":"ENABLED","variants":{"a":`+string(rune('0'+i))+`},"defaultVariant":"a"}`)
	}
	waitFor(t, "the burst's last value", func() bool { return c.Int(ctx, "burst", -1, nil).Value == 9 })
	time.Sleep(600 * time.Millisecond) // let trailing notifications arrive
	after := c.Stats().SnapshotFetches
	fetches := after["changed"] + after["unchanged"] - before["changed"] - before["unchanged"]
	t.Logf("10 changes in a burst -> %d snapshot fetches (%d change events seen in all)", fetches, c.Stats().ChangeEvents)
	if fetches == 0 || fetches > 5 {
		t.Errorf("10 rapid changes caused %d snapshot fetches, want 1..5 (coalesced)", fetches)
	}
}

func assertFileIsServed(t *testing.T, srv *testenv.Server, file string) {
	t.Helper()
	var served []byte
	waitFor(t, "the snapshot file to match the server's", func() bool {
		resp, err := http.Get(srv.URL() + "/sdk/v1/flags.json")
		if err != nil {
			return false
		}
		served, _ = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		onDisk, err := os.ReadFile(file)
		return err == nil && bytes.Equal(onDisk, served)
	})
}

// TestStartFromSnapshotFile: with the server down, a client starts from the last good
// snapshot written by an earlier one, or from a bootstrap file, and reports STALE.
func TestStartFromSnapshotFile(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	srv.PutFlag("new-checkout", boolFlag)
	dir := t.TempDir()
	file := filepath.Join(dir, "snapshot.json")
	first := newClient(t, sdk.Options{BaseURL: srv.URL(), LocalEvaluation: true, Sync: sdk.SyncOptions{SnapshotFile: file}})
	if err := first.WaitReady(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	_ = first.Close()
	srv.Stop()

	bootstrap := filepath.Join(dir, "bootstrap.json")
	if err := os.WriteFile(bootstrap, []byte(`{"flags":{"from-bootstrap":`+boolFlag+`}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		sync sdk.SyncOptions
		key  string
	}{
		{"snapshot file", sdk.SyncOptions{Enabled: true, SnapshotFile: file, BootstrapFile: bootstrap}, "new-checkout"},
		{"bootstrap file", sdk.SyncOptions{Enabled: true, SnapshotFile: filepath.Join(dir, "absent.json"), BootstrapFile: bootstrap}, "from-bootstrap"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, local := range []bool{true, false} {
				c := newClient(t, sdk.Options{BaseURL: srv.URL(), LocalEvaluation: local, Sync: tt.sync,
					Primary: sdk.BreakerOptions{CallTimeout: time.Second}})
				ctx := ctxT(t)
				if err := c.WaitReady(ctx); err != nil {
					t.Fatalf("WaitReady with the server down: %v", err)
				}
				if got := c.State(); got != sdk.StateStale {
					t.Errorf("state %s, want STALE", got)
				}
				want := sdk.SourceSnapshot
				if local {
					want = sdk.SourceLocal
				}
				r := c.Boolean(ctx, tt.key, false, nil)
				expect(t, "server down", r, true, sdk.ReasonStale, want)
				if r.EvaluatedReason != ofrepv1.ReasonStatic {
					t.Errorf("evaluated reason %s, want STATIC", r.EvaluatedReason)
				}
			}
		})
	}
}

// TestRemoteCacheFollowsChanges: without local evaluation, a change notification
// expires the memory cache at once (the TTL is an hour).
func TestRemoteCacheFollowsChanges(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	srv.PutFlag("banner", stringFlag)
	c := newClient(t, sdk.Options{BaseURL: srv.URL(), Cache: sdk.CacheOptions{TTL: time.Hour}, Sync: sdk.SyncOptions{Enabled: true, PollInterval: time.Hour}})
	ctx := ctxT(t)
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	expect(t, "first", c.String(ctx, "banner", "", nil), "Winter sale", ofrepv1.ReasonStatic, sdk.SourcePrimary)
	expect(t, "cached", c.String(ctx, "banner", "", nil), "Winter sale", sdk.ReasonCached, sdk.SourceMemory)
	srv.PutFlag("banner", `{"state":"ENABLED","variants":{"winter":"Winter sale","summer":"Summer sale"},"defaultVariant":"summer"}`)
	waitFor(t, "the change to expire the cache", func() bool {
		return c.String(ctx, "banner", "", nil).Value == "Summer sale"
	})
	expect(t, "after the change", c.String(ctx, "banner", "", nil), "Summer sale", sdk.ReasonCached, sdk.SourceMemory)
}

// TestStreamReconnects: the change stream comes back after the server restarts.
func TestStreamReconnects(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	srv.PutFlag("new-checkout", boolFlag)
	c := newClient(t, sdk.Options{BaseURL: srv.URL(), LocalEvaluation: true,
		Primary: sdk.BreakerOptions{Cooldown: 200 * time.Millisecond},
		Sync:    sdk.SyncOptions{PollInterval: time.Hour, ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}})
	events := subscribe(c)
	ctx := ctxT(t)
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	srv.Start()
	// A reconnected stream starts with an event naming the current snapshot.
	waitFor(t, "the stream to reconnect", func() bool { return c.Stats().ChangeEvents >= 2 })
	waitFor(t, "the snapshot to be fetched again", func() bool { return c.State() == sdk.StateReady })
	srv.SetState("new-checkout", "DISABLED")
	waitFor(t, "the change, through the reconnected stream", func() bool {
		return c.Boolean(ctx, "new-checkout", false, nil).Reason == ofrepv1.ReasonDisabled
	})
	st := c.Stats()
	t.Logf("stream connection attempts: %d; events: %d; states: %v", st.StreamConnects, st.ChangeEvents, events.states())
	if st.StreamConnects < 2 {
		t.Errorf("stream connection attempts = %d, want a reconnect", st.StreamConnects)
	}
}

// TestStaleWhileServerDown: with Sync on, a server that goes away makes the client STALE
// (event included) even when no evaluation trips the primary's breaker, and the client
// stays STALE past the breaker's cooldown, until the server is back: the lost change
// stream makes the sync loop check the server, whose failed fetches hold the state.
// The poll interval is an hour, so only the stream's loss can start that check.
func TestStaleWhileServerDown(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	srv.PutFlag("new-checkout", boolFlag)
	const cooldown = 100 * time.Millisecond
	tests := []struct {
		mode testenv.Mode
		// evaluate asks for an uncached context once the fault is on, which trips the
		// primary's breaker (TripAfter 1) at once.
		evaluate bool
	}{
		{testenv.Down, true},
		{testenv.Down, false},
		{testenv.Reset, false},
		{testenv.HTTP500, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/evaluate=%t", tt.mode, tt.evaluate), func(t *testing.T) {
			proxy := testenv.StartProxy(t, srv.Addr())
			c := newClient(t, sdk.Options{BaseURL: proxy.URL(),
				Primary: sdk.BreakerOptions{TripAfter: 1, Cooldown: cooldown, MaxCooldown: cooldown},
				Sync: sdk.SyncOptions{Enabled: true, PollInterval: time.Hour, CoalesceWindow: 10 * time.Millisecond,
					ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}})
			events := subscribe(c)
			ctx := ctxT(t)
			if err := c.WaitReady(ctx); err != nil {
				t.Fatal(err)
			}
			// The stream is up once it delivered the event naming the current snapshot.
			// When that event beat the first snapshot it asked for a refetch: let it run
			// (20 coalesce windows), so that it is not what finds the server down.
			waitFor(t, "the change stream", func() bool { return c.Stats().ChangeEvents >= 1 })
			time.Sleep(200 * time.Millisecond)
			if got := c.State(); got != sdk.StateReady {
				t.Fatalf("state %s before the fault, want READY", got)
			}

			proxy.SetMode(tt.mode)
			if tt.evaluate {
				r := c.Boolean(ctx, "new-checkout", false, map[string]any{"targetingKey": "uncached"})
				expect(t, "server down", r, true, sdk.ReasonStale, sdk.SourceSnapshot)
			}
			waitFor(t, "STALE with the server down", func() bool { return c.State() == sdk.StateStale })
			time.Sleep(5 * cooldown) // the breaker, if open, is half-open by now
			if got := c.State(); got != sdk.StateStale {
				t.Errorf("state %s %v after the server went down, want STALE: the server is still down", got, 5*cooldown)
			}

			proxy.SetMode(testenv.Pass)
			waitFor(t, "READY with the server back", func() bool { return c.State() == sdk.StateReady })
			// From the first STALE on (the start's READY may be delivered late), the
			// events must be one STALE, then READY: no READY while the server was down.
			want := []sdk.State{sdk.StateStale, sdk.StateReady}
			var got []sdk.State
			waitFor(t, fmt.Sprintf("state events %v", want), func() bool {
				all := events.states()
				i := slices.Index(all, sdk.StateStale)
				if i < 0 {
					return false
				}
				got = all[i:]
				return len(got) >= len(want)
			})
			if !slices.Equal(got, want) {
				t.Errorf("state events from the fault on: %v, want %v (all: %v)", got, want, events.states())
			}
		})
	}
}
