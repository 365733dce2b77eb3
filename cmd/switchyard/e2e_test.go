//go:build !command && !read

package main

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/e2e/suite"
	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/modules/flags"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
)

const newBanner = suite.NewBanner

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

// runWalkthrough is README's walk-through (the shared e2e suite) against s.
func runWalkthrough(t *testing.T, s *server, mode string) {
	t.Helper()
	suite.Walkthrough(t, s.deployment(mode))
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

// TestChangeStream is the shared e2e suite's change-stream check against the in-process
// monolith, once per bus mode.
func TestChangeStream(t *testing.T) {
	for _, mode := range []string{busSync, busAsync} {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_BUS": mode})
			suite.ChangeStream(t, s.deployment(mode))
		})
	}
}
