// Package migrate applies one module's embedded SQL migrations with goose, recording them
// in that module's own version table so that modules can move to separate databases.
package migrate

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"github.com/switchyardhq/switchyard/platform/sqlitedb"
	"github.com/switchyardhq/switchyard/platform/storage"
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
	opts := []goose.ProviderOption{goose.WithStore(store), goose.WithDisableGlobalRegistry(true)}
	if dialect == database.DialectPostgres {
		// Replicas of a Deployment start together: one migrates while the others wait on
		// a session advisory lock (one per module, so modules do not wait on each other),
		// then find nothing pending.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID(set.Module)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("migrate %s: lock: %w", set.Module, err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider("", db.DB, set.FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", set.Module, err)
	}
	return p, nil
}

// lockID is module's advisory lock key: stable across releases, distinct per module.
func lockID(module string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("switchyard/migrate/" + module))
	return int64(h.Sum64() >> 1)
}

// Source returns a module's migrations for a dialect; migrations.For is one.
type Source func(module, dialect string) (fs.FS, error)

// Open opens module's database (see storage.Open: a postgres:// DSN or a SQLite path),
// applies the module's migrations for its dialect, and returns the schema version.
func Open(ctx context.Context, dsnOrPath, module string, source Source, logger *slog.Logger) (*sqlx.DB, storage.Dialect, int64, error) {
	return OpenInSchema(ctx, dsnOrPath, module, module, source, logger)
}

// OpenInSchema is Open with the PostgreSQL schema named explicitly (tests use throwaway ones).
func OpenInSchema(ctx context.Context, dsnOrPath, schema, module string, source Source, logger *slog.Logger) (*sqlx.DB, storage.Dialect, int64, error) {
	db, dialect, err := storage.Open(ctx, dsnOrPath, schema)
	if err != nil {
		return nil, "", 0, fmt.Errorf("%s database: %w", module, err)
	}
	fsys, err := source(module, string(dialect))
	if err != nil {
		_ = db.Close()
		return nil, "", 0, err
	}
	v, err := Up(ctx, db, gooseDialect(dialect), Set{Module: module, FS: fsys}, logger)
	if err != nil {
		_ = db.Close()
		return nil, "", 0, err
	}
	return db, dialect, v, nil
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

func gooseDialect(d storage.Dialect) database.Dialect {
	if d == storage.Postgres {
		return database.DialectPostgres
	}
	return database.DialectSQLite3
}
