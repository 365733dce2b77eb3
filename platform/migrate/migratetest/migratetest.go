// Package migratetest gives tests a module's store as production opens it, on every
// dialect Switchyard runs on: a real SQLite file, and a throwaway schema on a real
// PostgreSQL server, each with the module's own migrations applied.
package migratetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/platform/migrate"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// Source returns a module's migrations for a dialect; migrations.For is one.
type Source = migrate.Source

// DefaultPostgresDSN is where tests find PostgreSQL unless SWITCHYARD_TEST_POSTGRES_DSN says otherwise.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresDSN is the server tests use.
func PostgresDSN() string {
	if dsn := os.Getenv("SWITCHYARD_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return DefaultPostgresDSN
}

// Each runs fn once per dialect as a subtest, each with a fresh migrated store of module.
// When PostgreSQL cannot be reached the postgres subtest is skipped with the reason,
// except in CI (CI set), where that is a failure: CI must test both.
func Each(t *testing.T, module string, source Source, fn func(t *testing.T, db *sqlx.DB)) {
	t.Helper()
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			RequireDialect(t, d)
			fn(t, Open(t, d, filepath.Join(t.TempDir(), module+".db"), module, source))
		})
	}
}

// RequireDialect skips (or, in CI, fails) the test when d's server is unreachable.
func RequireDialect(tb testing.TB, d storage.Dialect) {
	tb.Helper()
	if d != storage.Postgres {
		return
	}
	if err := ping(PostgresDSN()); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL is required in CI and unreachable at %s: %v", PostgresDSN(), err)
		}
		tb.Skipf("PostgreSQL unreachable (%v): set SWITCHYARD_TEST_POSTGRES_DSN or start it to run this test on PostgreSQL", err)
	}
}

// Open opens a migrated store of module in dialect d. For SQLite it is the file at path;
// for PostgreSQL a schema named after path, so reopening the same path (a restart in a
// test) finds the same data. The store is closed, and a PostgreSQL schema dropped, when
// the test ends.
func Open(tb testing.TB, d storage.Dialect, path, module string, source Source) *sqlx.DB {
	tb.Helper()
	target, schema := path, module
	if d == storage.Postgres {
		sum := sha256.Sum256([]byte(path))
		target, schema = PostgresDSN(), "t"+hex.EncodeToString(sum[:8])+"_"+module
	}
	db, _, _, err := migrate.OpenInSchema(context.Background(), target, schema, module, source, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("open migrated %s store on %s: %v", module, d, err)
	}
	tb.Cleanup(func() {
		_ = db.Close()
		if d == storage.Postgres {
			dropSchema(tb, schema)
		}
	})
	return db
}

// SQLite opens the SQLite file at path with module's migrations applied.
func SQLite(tb testing.TB, path, module string, source Source) *sqlx.DB {
	tb.Helper()
	return Open(tb, storage.SQLite, path, module, source)
}

func ping(dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func dropSchema(tb testing.TB, schema string) {
	db, err := sql.Open("pgx", PostgresDSN())
	if err != nil {
		tb.Logf("drop test schema %s: %v", schema, err)
		return
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
		tb.Logf("drop test schema %s: %v", schema, err)
	}
}

// Database creates a fresh PostgreSQL database on the test server for a whole service
// (a schema per module inside it), dropped with its connections forced out when the test
// ends. It returns the database's name and DSN, and an admin connection to the server
// (closed at the end) for tests that act on the server itself. Like Each, it skips, or
// fails in CI, when PostgreSQL is unreachable.
func Database(tb testing.TB) (name, dsn string, admin *sql.DB) {
	tb.Helper()
	RequireDialect(tb, storage.Postgres)
	admin, err := sql.Open("pgx", PostgresDSN())
	if err != nil {
		tb.Fatal(err)
	}
	name = fmt.Sprintf("switchyard_test_%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		_ = admin.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(PostgresDSN())
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return name, u.String(), admin
}
