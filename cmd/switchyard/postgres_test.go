//go:build !command && !read

package main

import (
	"testing"

	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
)

// postgresDatabase creates a fresh database on the test server and returns its DSN; it is
// dropped when the test ends (after the server using it stopped).
func postgresDatabase(t *testing.T) string {
	t.Helper()
	_, dsn, _ := migratetest.Database(t)
	return dsn
}

// TestWalkthroughOnPostgres is README's walk-through with every module on PostgreSQL
// (one database, a schema per module), once per bus mode.
func TestWalkthroughOnPostgres(t *testing.T) {
	for _, mode := range []string{busSync, busAsync} {
		t.Run(mode, func(t *testing.T) {
			dsn := postgresDatabase(t)
			dir := t.TempDir()
			env := map[string]string{
				"SWITCHYARD_BUS":            mode,
				"SWITCHYARD_FLAGS_DSN":      dsn,
				"SWITCHYARD_EVALUATION_DSN": dsn,
				"SWITCHYARD_AUDIT_DSN":      dsn,
			}
			s := startServer(t, dir, env)
			runWalkthrough(t, s, mode)

			// A restart rebuilds the read side from PostgreSQL, not from memory.
			s.stop()
			s = startServer(t, dir, env)
			got := s.evaluate("new-banner").json(t)
			if got["reason"] != "DISABLED" {
				t.Fatalf("after restart on PostgreSQL: %v", got)
			}
			if n := len(s.auditEntries("flag=new-banner")); n != 2 {
				t.Fatalf("audit after restart: %d entries, want 2", n)
			}
		})
	}
}
