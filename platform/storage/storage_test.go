package storage_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/storage"
)

func TestOpenPicksTheDialectFromTheSetting(t *testing.T) {
	db, d, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), "ignored")
	if err != nil || d != storage.SQLite || storage.DialectOf(db) != storage.SQLite {
		t.Fatalf("SQLite path: %v %v", d, err)
	}
	_ = db.Close()
	if db.Rebind("a = ? AND b = ?") != "a = ? AND b = ?" {
		t.Fatal("SQLite must keep ? placeholders")
	}
	if _, _, err := storage.Open(context.Background(), migratetest.PostgresDSN(), "Bad-Schema"); err == nil {
		t.Fatal("an invalid schema name must be refused")
	}
}

// TestPostgresSchemasIsolateModules shows two modules on one PostgreSQL database: each
// sees only its own schema's tables, so table names never clash.
func TestPostgresSchemasIsolateModules(t *testing.T) {
	migratetest.RequireDialect(t, storage.Postgres)
	ctx := context.Background()
	open := func(schema string) *storage.Dialect {
		db, d, err := storage.Open(ctx, migratetest.PostgresDSN(), schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = db.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`)
			_ = db.Close()
		})
		if storage.DialectOf(db) != storage.Postgres || db.Rebind("a = ? AND b = ?") != "a = $1 AND b = $2" {
			t.Fatalf("postgres dialect/bind: %v %q", storage.DialectOf(db), db.Rebind("a = ? AND b = ?"))
		}
		if _, err := db.Exec(`CREATE TABLE outbox (id BIGINT)`); err != nil {
			t.Fatalf("create table in %s: %v", schema, err)
		}
		if _, err := db.Exec(db.Rebind(`INSERT INTO outbox (id) VALUES (?)`), len(schema)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Get(&n, `SELECT COUNT(*) FROM outbox`); err != nil || n != 1 {
			t.Fatalf("%s sees %d rows (%v), want only its own 1", schema, n, err)
		}
		return &d
	}
	open("tstorage_flags")
	open("tstorage_audit")
}
