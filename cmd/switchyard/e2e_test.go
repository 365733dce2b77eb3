//go:build !command && !read

package main

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/modules/flags"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
)

const newBanner = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`

// TestWalkthrough is README's curl walk-through, once per bus mode: create a flag,
// evaluate it, toggle it, evaluate again, read the audit timeline.
func TestWalkthrough(t *testing.T) {
	for _, mode := range []string{busSync, busAsync} {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, t.TempDir(), map[string]string{
				"SWITCHYARD_BUS":       mode,
				"SWITCHYARD_SEED_FILE": filepath.Join("..", "..", "deploy", "seed", "flags.json"),
			})

			// The seed flags are evaluable from the first request on.
			s.eventually("seed visible", func() bool { return s.evaluate("new-checkout").status == http.StatusOK })
			if got := s.evaluate("new-checkout").json(t); got["value"] != false || got["reason"] != "STATIC" {
				t.Fatalf("seed flag new-checkout evaluates to %v", got)
			}

			runWalkthrough(t, s, mode)
		})
	}
}

// runWalkthrough is README's walk-through against s: create a flag, evaluate it, toggle
// it, evaluate again, read the audit timeline.
func runWalkthrough(t *testing.T, s *server, mode string) {
	t.Helper()
	created := s.do(http.MethodPut, "/api/v1/environments/development/flags/new-banner", newBanner,
		map[string]string{"X-Change-Reason": "launch the banner"})
	if created.status != http.StatusCreated || created.header.Get("ETag") != `"1"` {
		t.Fatalf("create: %d ETag %q %s", created.status, created.header.Get("ETag"), created.body)
	}
	if body := created.json(t); body["version"] != 1.0 || body["updatedBy"] != "alice" {
		t.Fatalf("create response %v", body)
	}

	evaluated := visible(t, s, mode, "new-banner", func(m map[string]any) bool { return m["value"] == true })
	if evaluated["reason"] != "STATIC" || evaluated["variant"] != "on" {
		t.Fatalf("evaluation after create: %v", evaluated)
	}

	toggled := s.do(http.MethodPut, "/api/v1/environments/development/flags/new-banner/state",
		`{"state":"DISABLED"}`, map[string]string{"If-Match": `"1"`, "X-Change-Reason": "incident 42"})
	if toggled.status != http.StatusOK || toggled.header.Get("ETag") != `"2"` {
		t.Fatalf("toggle: %d %s", toggled.status, toggled.body)
	}
	disabled := visible(t, s, mode, "new-banner", func(m map[string]any) bool { return m["reason"] == "DISABLED" })
	if _, hasValue := disabled["value"]; hasValue {
		t.Fatalf("a disabled flag must defer to the code default (no value): %v", disabled)
	}

	var entries []map[string]any
	s.eventually("audit has both changes", func() bool {
		entries = s.auditEntries("flag=new-banner")
		return len(entries) == 2
	})
	newest := entries[0]
	if newest["action"] != "flag.state_changed" || newest["actor"] != "alice" || newest["reason"] != "incident 42" || newest["version"] != 2.0 {
		t.Fatalf("newest audit entry %v", newest)
	}
	if before, after := newest["before"].(map[string]any), newest["after"].(map[string]any); before["state"] != "ENABLED" || after["state"] != "DISABLED" {
		t.Fatalf("audit before/after: %v -> %v", newest["before"], newest["after"])
	}
	if entries[1]["action"] != "flag.created" || entries[1]["before"] != nil {
		t.Fatalf("oldest audit entry %v", entries[1])
	}
}

// visible returns the evaluation of key once ok accepts it. In sync mode the change must
// be visible in the very next request; in async mode it must converge.
func visible(t *testing.T, s *server, mode, key string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	if mode == busSync {
		got := s.evaluate(key).json(t)
		if !ok(got) {
			t.Fatalf("sync mode: the evaluation right after a successful write does not see it: %v", got)
		}
		return got
	}
	var got map[string]any
	s.eventually("async convergence of "+key, func() bool {
		resp := s.evaluate(key)
		if resp.status != http.StatusOK {
			return false
		}
		got = resp.json(t)
		return ok(got)
	})
	return got
}

// TestCrashBetweenCommitAndDeliveryLosesNothing commits a change the way the flags
// module does and "dies" before delivering it; the next start delivers it to evaluation
// and audit, and a redelivery of the same event changes nothing.
func TestCrashBetweenCommitAndDeliveryLosesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()

	db := openMigrated(t, dir, "flags")
	crashed := &diesAfterCommit{hold: 5 * time.Second}
	fl, err := flags.New(flags.Deps{DB: db, Logger: newLogger(discard{}, 8), Dispatcher: crashed,
		AdminAuth: httpx.RequireBearer([]httpx.Token{{Name: "alice", Secret: "x"}})})
	if err != nil {
		t.Fatal(err)
	}
	seed := `{"flags":{"orphan":{"state":"ENABLED","variants":{"a":"x","b":"y"},"defaultVariant":"b"}}}`
	if n, err := fl.SeedIfEmpty(ctx, "development", []byte(seed), "alice", "before the crash"); err != nil || n != 1 {
		t.Fatalf("commit before crash: %d, %v", n, err)
	}
	if crashed.calls != 1 {
		t.Fatalf("dispatcher called %d times", crashed.calls)
	}
	_ = db.Close()

	s := startServer(t, dir, map[string]string{"SWITCHYARD_BUS": busSync})
	s.eventually("orphaned event delivered after restart", func() bool {
		resp := s.evaluate("orphan")
		return resp.status == http.StatusOK && resp.json(t)["value"] == "y"
	})
	s.eventually("audit recorded it", func() bool { return len(s.auditEntries("flag=orphan")) == 1 })

	// Redeliver: mark the row pending again, as if the relay died after delivering and
	// before marking it; the next start delivers it a second time.
	s.stop()
	db = openMigrated(t, dir, "flags")
	res, err := db.Exec(`UPDATE outbox SET delivered_at = NULL, next_attempt_at = 0`)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("reset outbox row: %d, %v", n, err)
	}
	_ = db.Close()

	s = startServer(t, dir, map[string]string{"SWITCHYARD_BUS": busAsync})
	s.eventually("redelivered", func() bool {
		db := openMigrated(t, dir, "flags")
		defer db.Close()
		var pending int
		_ = db.Get(&pending, `SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL`)
		return pending == 0
	})
	if got := s.auditEntries("flag=orphan"); len(got) != 1 {
		t.Fatalf("a redelivered event must not add an audit entry: %d entries", len(got))
	}
	if got := s.evaluate("orphan").json(t); got["value"] != "y" {
		t.Fatalf("evaluation after redelivery: %v", got)
	}
}

// diesAfterCommit is a dispatcher for a process that dies right after its transaction
// committed: nothing is delivered.
type diesAfterCommit struct {
	hold  time.Duration
	calls int
}

func (d *diesAfterCommit) Hold() time.Duration { return d.hold }
func (d *diesAfterCommit) AfterCommit(context.Context, string) error {
	d.calls++
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func openMigrated(t *testing.T, dir, module string) *sqlx.DB {
	t.Helper()
	return migratetest.SQLite(t, filepath.Join(dir, module+".db"), module, migrations.For)
}
