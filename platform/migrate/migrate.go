// Package migrate applies one module's embedded SQL migrations with goose, recording them
// in that module's own version table so that modules can move to separate databases.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/switchyardhq/switchyard/platform/sqlitedb"
)

// Set is one module's migrations.
type Set struct {
	Module       string // e.g. "flags"; names the version table <module>_schema_version
	FS           fs.FS  // *.sql files in goose format at the root
	VersionTable string // defaults to <Module>_schema_version
}

func (s Set) table() string {
	if s.VersionTable != "" {
		return s.VersionTable
	}
	return s.Module + "_schema_version"
}

// Up applies every pending migration of set to db and returns the resulting version.
func Up(ctx context.Context, db *sqlx.DB, dialect database.Dialect, set Set, logger *slog.Logger) (int64, error) {
	p, err := provider(db, dialect, set)
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate %s up: %w", set.Module, err)
	}
	for _, r := range results {
		logger.InfoContext(ctx, "migration applied", "module", set.Module, "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate %s: read version: %w", set.Module, err)
	}
	return v, nil
}

// Pending reports how many migrations of set are not applied yet.
func Pending(ctx context.Context, db *sqlx.DB, dialect database.Dialect, set Set) (int, error) {
	p, err := provider(db, dialect, set)
	if err != nil {
		return 0, err
	}
	status, err := p.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate %s status: %w", set.Module, err)
	}
	n := 0
	for _, s := range status {
		if s.State == goose.StatePending {
			n++
		}
	}
	return n, nil
}

func provider(db *sqlx.DB, dialect database.Dialect, set Set) (*goose.Provider, error) {
	store, err := database.NewStore(dialect, set.table())
	if err != nil {
		return nil, fmt.Errorf("migrate %s: version store: %w", set.Module, err)
	}
	p, err := goose.NewProvider("", db.DB, set.FS, goose.WithStore(store), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", set.Module, err)
	}
	return p, nil
}

// OpenSQLite opens the SQLite database at path and applies set to it.
func OpenSQLite(ctx context.Context, path string, set Set, logger *slog.Logger) (*sqlx.DB, int64, error) {
	db, err := sqlitedb.Open(ctx, path)
	if err != nil {
		return nil, 0, err
	}
	v, err := Up(ctx, db, database.DialectSQLite3, set, logger)
	if err != nil {
		_ = db.Close()
		return nil, 0, err
	}
	return db, v, nil
}
