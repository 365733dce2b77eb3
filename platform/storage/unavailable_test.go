package storage_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/storage"
)

func TestIsUnavailableTellsLostConnectionsFromRejectedStatements(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("insert flag: %w", err) }
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"admin shutdown 57P01", wrap(&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}), true},
		{"crash shutdown 57P02", &pgconn.PgError{Code: "57P02"}, true},
		{"cannot connect now 57P03", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure 08006", wrap(&pgconn.PgError{Code: "08006"}), true},
		{"unique violation 23505", wrap(&pgconn.PgError{Code: "23505"}), false},
		{"syntax error 42601", &pgconn.PgError{Code: "42601"}, false},
		{"query canceled 57014", &pgconn.PgError{Code: "57014"}, false},
		{"bad conn", wrap(driver.ErrBadConn), true},
		{"conn done", wrap(sql.ErrConnDone), true},
		{"unexpected EOF", wrap(io.ErrUnexpectedEOF), true},
		{"net op error", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), true},
		{"closed network connection", wrap(net.ErrClosed), true},
		{"context canceled", wrap(context.Canceled), false},
		{"deadline exceeded", wrap(context.DeadlineExceeded), false},
		{"no rows", wrap(sql.ErrNoRows), false},
		{"plain", errors.New("boom"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := storage.IsUnavailable(tc.err); got != tc.want {
				t.Fatalf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestIsUnavailableOnARefusedConnection uses the driver's real error for a server that
// is not there (a closed loopback port).
func TestIsUnavailableOnARefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	db, err := sql.Open("pgx", "postgres://postgres@"+addr+"/x?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	if err == nil || !storage.IsUnavailable(err) {
		t.Fatalf("ping of a closed port: IsUnavailable(%v) = false, want true", err)
	}
}

// TestIsUnavailableWhenTheServerEndsTheSession terminates the backend of an open
// transaction, as an administrator or a failover does; the next statement's error is one.
func TestIsUnavailableWhenTheServerEndsTheSession(t *testing.T) {
	migratetest.RequireDialect(t, storage.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", migratetest.PostgresDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	var pid int
	if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	_, err = tx.ExecContext(ctx, `SELECT 1`)
	if err == nil {
		t.Fatal("a statement on a terminated backend succeeded")
	}
	if !storage.IsUnavailable(err) {
		t.Fatalf("IsUnavailable(%v) = false after pg_terminate_backend", err)
	}
	if storage.IsUnavailable(db.PingContext(ctx)) {
		t.Fatal("the pool must recover with a new connection")
	}
}
