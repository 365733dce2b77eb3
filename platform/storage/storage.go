// Package storage opens a module's database from one setting: a postgres:// DSN selects
// PostgreSQL, anything else is a SQLite file. On PostgreSQL every module lives in a
// schema of its own (its tables, its version table), created if missing and set as the
// search_path of every connection, so modules can share one database or each have their
// own without a line of SQL changing. Queries use `?` placeholders through sqlx's Rebind.
package storage

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/platform/sqlitedb"
)

// Dialect is the SQL dialect of a module's database.
type Dialect string

// The dialects Switchyard runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// pgxDriverName is how sqlx knows pgx: it picks the $1 bind style for it.
const pgxDriverName = "pgx"

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// IsPostgres reports whether dsnOrPath is a PostgreSQL DSN.
func IsPostgres(dsnOrPath string) bool {
	return strings.HasPrefix(dsnOrPath, "postgres://") || strings.HasPrefix(dsnOrPath, "postgresql://")
}

// Open opens a module's database: PostgreSQL in schema for a postgres:// DSN, otherwise
// the SQLite file at dsnOrPath (schema is then unused).
func Open(ctx context.Context, dsnOrPath, schema string) (*sqlx.DB, Dialect, error) {
	if !IsPostgres(dsnOrPath) {
		db, err := sqlitedb.Open(ctx, dsnOrPath)
		return db, SQLite, err
	}
	db, err := openPostgres(ctx, dsnOrPath, schema)
	return db, Postgres, err
}

// DialectOf reports the dialect of a database opened by Open.
func DialectOf(db *sqlx.DB) Dialect {
	if db.DriverName() == pgxDriverName {
		return Postgres
	}
	return SQLite
}

func openPostgres(ctx context.Context, dsn, schema string) (*sqlx.DB, error) {
	if !schemaPattern.MatchString(schema) {
		return nil, fmt.Errorf("postgres schema %q is invalid: use lowercase letters, digits and '_'", schema)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres DSN is not a URL: %w", redact(err, dsn))
	}
	if err := createSchema(ctx, dsn, schema); err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open(pgxDriverName, u.String())
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", describe(u), err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to postgres %s: %w", describe(u), err)
	}
	return sqlx.NewDb(db, pgxDriverName), nil
}

// createSchema makes sure the module's schema exists, with a connection of its own so
// that the pool never starts without its search_path.
func createSchema(ctx context.Context, dsn, schema string) error {
	db, err := sql.Open(pgxDriverName, dsn)
	if err != nil {
		return fmt.Errorf("open postgres: %w", redact(err, dsn))
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// schema matched schemaPattern: it is safe to splice into DDL. Replicas starting
	// together race here: IF NOT EXISTS does not stop a concurrent CREATE from failing on
	// the catalog's unique index, and the loser finds the winner's schema.
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil && !IsUniqueViolation(err) {
		return fmt.Errorf("create postgres schema %s: %w", schema, redact(err, dsn))
	}
	return nil
}

// describe names a PostgreSQL server for messages without its password.
func describe(u *url.URL) string {
	return u.Host + u.Path
}

func redact(err error, dsn string) error {
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), pw, "xxxxx"))
		}
	}
	return err
}
