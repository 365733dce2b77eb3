package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Addresses of the machine's Redis and PostgreSQL (user postgres, trust).
const (
	RedisAddr    = "127.0.0.1:6379"
	PostgresAddr = "127.0.0.1:5432"
)

// Unique returns a short random name for per-test keys, databases and roles.
func Unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// RedisKeyPrefix returns a key prefix unique to the test and deletes every key under it
// when the test ends. It skips the test when Redis is not reachable and not required.
func RedisKeyPrefix(t testing.TB) string {
	t.Helper()
	requireTCP(t, RedisAddr, "Redis")
	prefix := Unique("switchyard-sdk-test:") + ":"
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: RedisAddr})
		defer func() { _ = c.Close() }()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// Database is a throwaway PostgreSQL database, dropped when the test ends.
type Database struct {
	Name string
	// DSN connects as the superuser postgres.
	DSN string
}

// NewDatabase creates a database with a unique name.
func NewDatabase(t testing.TB) Database {
	t.Helper()
	requireTCP(t, PostgresAddr, "PostgreSQL")
	name := Unique("sdk_test_")
	Exec(t, AdminDSN("postgres"), "CREATE DATABASE "+name)
	t.Cleanup(func() { execCleanup(t, AdminDSN("postgres"), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return Database{Name: name, DSN: AdminDSN(name)}
}

// AdminDSN is the superuser's DSN of database db.
func AdminDSN(db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", PostgresAddr, db)
}

// Exec runs statements (one per call to the server) as dsn's user.
func Exec(t testing.TB, dsn string, statements ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("testenv: connect %s: %v", dsn, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("testenv: %s: %v", s, err)
		}
	}
}

func execCleanup(t testing.TB, dsn, statement string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Logf("testenv: cleanup: connect: %v", err)
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, statement); err != nil {
		t.Logf("testenv: cleanup: %s: %v", statement, err)
	}
}

// requireTCP fails the test when addr does not accept connections: CI provides these
// services, and a test that silently skipped would prove nothing.
func requireTCP(t testing.TB, addr, what string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("testenv: %s is not reachable at %s: %v", what, addr, err)
	}
	_ = c.Close()
}
