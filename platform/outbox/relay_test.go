package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/outbox"
	"github.com/switchyardhq/switchyard/platform/storage"
)

const sqliteSchema = `CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL UNIQUE,
    topic           TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
)`

// postgresSchema is the same table as the modules' PostgreSQL migrations create it.
const postgresSchema = `CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    topic           TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT
)`

// fakeClock is a settable clock for the relay's scheduling.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// consumer is a real bus handler that records event ids and fails while told to.
type consumer struct {
	mu      sync.Mutex
	got     []string
	failing bool
	// retryAfter, when set, is the consumer's own word on when to retry (an open breaker).
	retryAfter time.Duration
}

// waitError is a failure that says when to retry, as breaker.OpenError does.
type waitError struct{ wait time.Duration }

func (e waitError) Error() string             { return "circuit breaker open" }
func (e waitError) RetryAfter() time.Duration { return e.wait }

func (c *consumer) handle(msg *message.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failing && c.retryAfter > 0 {
		return waitError{c.retryAfter}
	}
	if c.failing {
		return errors.New("projection store unavailable")
	}
	c.got = append(c.got, msg.UUID)
	return nil
}

func (c *consumer) setFailing(v bool) { c.mu.Lock(); defer c.mu.Unlock(); c.failing = v }
func (c *consumer) received() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

type fixture struct {
	db    *sqlx.DB
	clock *fakeClock
	cons  *consumer
	relay *outbox.Relay
}

// eachDialect runs fn on a fresh outbox in SQLite and in PostgreSQL (when reachable).
func eachDialect(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			migratetest.RequireDialect(t, d)
			fn(t, newFixture(t, d))
		})
	}
}

// outboxStore creates a fresh outbox table in dialect d (a temp SQLite file, or a
// throwaway PostgreSQL schema dropped at the end) and returns a function that opens a
// connection pool to it; each call is another pool, as another replica would have.
func outboxStore(t *testing.T, d storage.Dialect) (open func() *sqlx.DB) {
	t.Helper()
	target, schema, ddl := filepath.Join(t.TempDir(), "outbox.db"), "", sqliteSchema
	if d == storage.Postgres {
		target, schema, ddl = migratetest.PostgresDSN(), fmt.Sprintf("toutbox_%d", time.Now().UnixNano()), postgresSchema
	}
	open = func() *sqlx.DB {
		db, _, err := storage.Open(context.Background(), target, schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	first := open()
	if _, err := first.Exec(ddl); err != nil {
		t.Fatal(err)
	}
	if d == storage.Postgres {
		t.Cleanup(func() { _, _ = first.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`) })
	}
	return open
}

func newFixture(t *testing.T, d storage.Dialect) *fixture {
	t.Helper()
	db := outboxStore(t, d)()
	cons := &consumer{}
	deliverer, err := bus.NewSync(bus.Handler{Name: "consumer", Topic: "t", Handle: cons.handle})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	relay := outbox.NewRelay(db, deliverer, slog.New(slog.NewTextHandler(io.Discard, nil)),
		outbox.RelayOptions{Now: clock.Now, Hold: 5 * time.Second, MaxBackoff: 4 * time.Second, Retention: time.Hour})
	return &fixture{db: db, clock: clock, cons: cons, relay: relay}
}

func (f *fixture) enqueue(t *testing.T, id string, hold time.Duration) {
	t.Helper()
	tx, err := f.db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	m := outbox.Message{EventID: id, Topic: "t", EventType: "test.v1.happened", Payload: []byte(`{}`)}
	if err := outbox.Enqueue(context.Background(), tx, m, f.clock.Now(), hold); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) backlog(t *testing.T) outbox.Backlog {
	t.Helper()
	b, err := f.relay.Backlog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRelayDeliversCommittedRowsInOrderOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		for i := 1; i <= 3; i++ {
			f.enqueue(t, fmt.Sprintf("e%d", i), 0)
		}
		n, err := f.relay.DeliverDue(context.Background())
		if err != nil || n != 3 {
			t.Fatalf("DeliverDue = %d, %v; want 3, nil", n, err)
		}
		if got := fmt.Sprint(f.cons.received()); got != "[e1 e2 e3]" {
			t.Fatalf("delivered %s, want [e1 e2 e3]", got)
		}
		if n, _ := f.relay.DeliverDue(context.Background()); n != 0 {
			t.Fatalf("second pass delivered %d rows again", n)
		}
		if b := f.backlog(t); b.Pending != 0 {
			t.Fatalf("backlog %+v after delivery", b)
		}
	})
}

func TestRelayLeavesHeldRowsToTheirWriterUntilTheHoldExpires(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		f.enqueue(t, "held", 5*time.Second) // a sync writer committed and (maybe) died
		if n, _ := f.relay.DeliverDue(context.Background()); n != 0 {
			t.Fatal("relay delivered a row still held by its writer")
		}
		f.clock.Advance(5 * time.Second)
		if n, _ := f.relay.DeliverDue(context.Background()); n != 1 {
			t.Fatal("relay did not take over the row once the hold expired")
		}
	})
}

func TestRelayRetriesFailedDeliveriesWithBackoffAndNeverDropsThem(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		f.cons.setFailing(true)
		f.enqueue(t, "e1", 0)

		// Attempts at t=0 (fails, next in 0.5s), t=0.5 (fails, next in 1s), ...
		for i, wait := range []time.Duration{0, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
			f.clock.Advance(wait)
			if n, _ := f.relay.DeliverDue(context.Background()); n != 0 {
				t.Fatalf("attempt %d: delivered while the consumer fails", i+1)
			}
			if n, _ := f.relay.DeliverDue(context.Background()); n != 0 {
				t.Fatalf("attempt %d: retried before its backoff elapsed", i+1)
			}
		}
		b := f.backlog(t)
		if b.Pending != 1 || b.Failing != 1 {
			t.Fatalf("backlog = %+v, want the failing row pending", b)
		}
		f.cons.setFailing(false)
		f.clock.Advance(4 * time.Second) // MaxBackoff caps the wait
		if n, _ := f.relay.DeliverDue(context.Background()); n != 1 {
			t.Fatal("row not delivered once the consumer recovered")
		}
		if b := f.backlog(t); b.Pending != 0 || b.Failing != 0 {
			t.Fatalf("backlog = %+v after recovery", b)
		}
	})
}

func TestRelayRetriesNoLaterThanAConsumerAsks(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		f.cons.setFailing(true)
		f.enqueue(t, "e1", 0)
		// Three plain failures push the backoff to 2 s (0.5, 1, 2) ...
		for _, wait := range []time.Duration{0, 500 * time.Millisecond, time.Second} {
			f.clock.Advance(wait)
			_, _ = f.relay.DeliverDue(context.Background())
		}
		// ... then the consumer's breaker is open and says "retry in 300 ms".
		f.cons.mu.Lock()
		f.cons.retryAfter = 300 * time.Millisecond
		f.cons.mu.Unlock()
		f.clock.Advance(2 * time.Second)
		_, _ = f.relay.DeliverDue(context.Background())
		f.cons.setFailing(false)
		f.clock.Advance(299 * time.Millisecond)
		if n, _ := f.relay.DeliverDue(context.Background()); n != 0 {
			t.Fatal("retried before the consumer's own retry time")
		}
		f.clock.Advance(time.Millisecond)
		if n, _ := f.relay.DeliverDue(context.Background()); n != 1 {
			t.Fatal("not retried at the consumer's retry time (300 ms) although the backoff said 4 s")
		}
	})
}

func TestInlineDispatcherDeliversBeforeReturningAndSaysWhoFailed(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		d := outbox.NewDispatcher(f.relay, true)
		if d.Hold() != 5*time.Second {
			t.Fatalf("inline Hold = %v, want the relay's hold", d.Hold())
		}
		f.enqueue(t, "ok", d.Hold())
		if err := d.AfterCommit(context.Background(), "ok"); err != nil {
			t.Fatal(err)
		}
		if got := f.cons.received(); len(got) != 1 {
			t.Fatalf("inline dispatch returned before delivery: %v", got)
		}

		f.cons.setFailing(true)
		f.enqueue(t, "bad", d.Hold())
		err := d.AfterCommit(context.Background(), "bad")
		if got := bus.FailedHandlers(err); len(got) != 1 || got[0] != "consumer" {
			t.Fatalf("AfterCommit error %v names %v, want [consumer]", err, got)
		}
		if b := f.backlog(t); b.Pending != 1 {
			t.Fatalf("failed inline delivery must stay in the outbox, backlog %+v", b)
		}
		// Delivering an already delivered event again is a no-op.
		if err := d.AfterCommit(context.Background(), "ok"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAsyncDispatcherOnlyWakesTheRelay(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		d := outbox.NewDispatcher(f.relay, false)
		if d.Hold() != 0 {
			t.Fatalf("async Hold = %v, want 0", d.Hold())
		}
		f.enqueue(t, "e1", d.Hold())
		if err := d.AfterCommit(context.Background(), "e1"); err != nil {
			t.Fatal(err)
		}
		if got := f.cons.received(); len(got) != 0 {
			t.Fatal("async dispatch delivered inline")
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.relay.Run(ctx) }()
		deadline := time.Now().Add(5 * time.Second)
		for len(f.cons.received()) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := f.cons.received(); len(got) != 1 {
			t.Fatalf("relay.Run delivered %v, want [e1]", got)
		}
	})
}

func TestRelayPrunesOnlyRowsDeliveredLongerThanRetentionAgo(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		f.enqueue(t, "old-1", 0)
		f.enqueue(t, "old-2", 0)
		if n, _ := f.relay.DeliverDue(context.Background()); n != 2 {
			t.Fatalf("delivered %d, want 2", n)
		}
		f.cons.setFailing(true)
		f.enqueue(t, "stuck", 0) // pending for ever: never pruned
		_, _ = f.relay.DeliverDue(context.Background())
		f.cons.setFailing(false)

		f.clock.Advance(50 * time.Minute)
		f.enqueue(t, "recent", 5*time.Second)
		if err := f.relay.DeliverNow(context.Background(), "recent"); err != nil {
			t.Fatal(err) // delivered 50 min after the old rows: within the retention at prune time
		}

		f.clock.Advance(11 * time.Minute) // old-1, old-2: delivered 61 min ago (Retention 1h)
		if n, err := f.relay.Prune(context.Background()); err != nil || n != 2 {
			t.Fatalf("Prune = %d, %v; want the 2 rows delivered over an hour ago", n, err)
		}
		var left []string
		if err := f.db.Select(&left, `SELECT event_id FROM outbox ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if want := []string{"stuck", "recent"}; !slices.Equal(left, want) {
			t.Fatalf("rows left %v, want %v: undelivered rows stay, whatever their age", left, want)
		}
		if n, _ := f.relay.Prune(context.Background()); n != 0 {
			t.Fatalf("a second Prune deleted %d rows", n)
		}
	})
}
