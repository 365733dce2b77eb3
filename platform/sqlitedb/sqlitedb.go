// Package sqlitedb opens the embedded store: one SQLite file per module, through the
// pure-Go modernc driver (no cgo), in WAL mode with full fsync, a busy timeout, foreign
// keys on, and BEGIN IMMEDIATE transactions so that concurrent writers queue on the
// busy timeout instead of failing to upgrade a read lock.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Open opens (creating if needed) the SQLite database at path and checks it answers.
func Open(ctx context.Context, path string) (*sqlx.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory for %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One writer at a time is all SQLite allows; a small pool keeps readers concurrent.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ping sqlite %s: %w", path, err)
	}
	// sqlx picks its bind style by driver name; modernc's "sqlite" uses "?" like sqlite3.
	return sqlx.NewDb(db, "sqlite3"), nil
}
