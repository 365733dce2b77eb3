// Package migratetest gives tests a module's store as production opens it: a real SQLite
// file with the module's own migrations applied.
package migratetest

import (
	"context"
	"io/fs"
	"log/slog"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/platform/migrate"
)

// Source returns a module's migrations for a dialect; migrations.For is one.
type Source func(module, dialect string) (fs.FS, error)

// SQLite opens the SQLite file at path, applies module's migrations from source, and
// closes the database when the test ends. Opening the same path again reuses the data.
func SQLite(tb testing.TB, path, module string, source Source) *sqlx.DB {
	tb.Helper()
	fsys, err := source(module, "sqlite")
	if err != nil {
		tb.Fatalf("migrations of %s: %v", module, err)
	}
	db, _, err := migrate.OpenSQLite(context.Background(), path, migrate.Set{Module: module, FS: fsys}, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("open migrated %s store: %v", module, err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}
