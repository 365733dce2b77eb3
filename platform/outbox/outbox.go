package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Message is one event to publish.
type Message struct {
	EventID   string
	Topic     string
	EventType string
	Payload   []byte
}

// Enqueue writes m into the outbox within tx. hold keeps the relay away from the row for
// that long, for a caller that delivers the row itself right after commit (sync mode);
// if that caller dies, the relay picks the row up when hold expires.
func Enqueue(ctx context.Context, tx *sqlx.Tx, m Message, now time.Time, hold time.Duration) error {
	const q = `INSERT INTO outbox (event_id, topic, event_type, payload, created_at, next_attempt_at)
VALUES (?, ?, ?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), m.EventID, m.Topic, m.EventType, string(m.Payload),
		now.UnixMilli(), now.Add(hold).UnixMilli()); err != nil {
		return fmt.Errorf("enqueue outbox event %s: %w", m.EventID, err)
	}
	return nil
}

// row is an outbox row as the relay reads it.
type row struct {
	ID            int64  `db:"id"`
	EventID       string `db:"event_id"`
	Topic         string `db:"topic"`
	EventType     string `db:"event_type"`
	Payload       string `db:"payload"`
	CreatedAt     int64  `db:"created_at"`
	Attempts      int    `db:"attempts"`
	NextAttemptAt int64  `db:"next_attempt_at"`
}

const rowColumns = `id, event_id, topic, event_type, payload, created_at, attempts, next_attempt_at`

func due(ctx context.Context, db *sqlx.DB, now time.Time, limit int) ([]row, error) {
	const q = `SELECT ` + rowColumns + ` FROM outbox
WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?`
	var rows []row
	if err := db.SelectContext(ctx, &rows, db.Rebind(q), now.UnixMilli(), limit); err != nil {
		return nil, fmt.Errorf("select due outbox rows: %w", err)
	}
	return rows, nil
}

func byEventID(ctx context.Context, db *sqlx.DB, eventID string) (row, error) {
	const q = `SELECT ` + rowColumns + ` FROM outbox WHERE event_id = ? AND delivered_at IS NULL`
	var r row
	err := db.GetContext(ctx, &r, db.Rebind(q), eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, errAlreadyDelivered
	}
	if err != nil {
		return row{}, fmt.Errorf("select outbox event %s: %w", eventID, err)
	}
	return r, nil
}

var errAlreadyDelivered = errors.New("outbox event already delivered")

// claim moves the row's next attempt to until, if nobody else claimed it since it was read.
func claim(ctx context.Context, db *sqlx.DB, r row, until time.Time) (bool, error) {
	const q = `UPDATE outbox SET next_attempt_at = ?
WHERE id = ? AND delivered_at IS NULL AND next_attempt_at = ?`
	res, err := db.ExecContext(ctx, db.Rebind(q), until.UnixMilli(), r.ID, r.NextAttemptAt)
	if err != nil {
		return false, fmt.Errorf("claim outbox row %d: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim outbox row %d: %w", r.ID, err)
	}
	return n == 1, nil
}

func markDelivered(ctx context.Context, db *sqlx.DB, id int64, now time.Time) error {
	const q = `UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?`
	if _, err := db.ExecContext(ctx, db.Rebind(q), now.UnixMilli(), id); err != nil {
		return fmt.Errorf("mark outbox row %d delivered: %w", id, err)
	}
	return nil
}

func markFailed(ctx context.Context, db *sqlx.DB, id int64, next time.Time, cause error) error {
	const q = `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
WHERE id = ? AND delivered_at IS NULL`
	msg := cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	if _, err := db.ExecContext(ctx, db.Rebind(q), next.UnixMilli(), msg, id); err != nil {
		return fmt.Errorf("mark outbox row %d failed: %w", id, err)
	}
	return nil
}

// Prune deletes up to limit delivered rows delivered before cutoff, oldest first, and
// returns how many it deleted. Undelivered rows are never pruned, however old.
func Prune(ctx context.Context, db *sqlx.DB, cutoff time.Time, limit int) (int64, error) {
	const q = `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
WHERE delivered_at IS NOT NULL AND delivered_at < ? ORDER BY delivered_at LIMIT ?)`
	res, err := db.ExecContext(ctx, db.Rebind(q), cutoff.UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("prune delivered outbox rows: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune delivered outbox rows: %w", err)
	}
	return n, nil
}

// Backlog describes what is waiting in an outbox.
type Backlog struct {
	Pending       int           `json:"pending"`
	Failing       int           `json:"failing"` // pending rows whose last attempt failed
	OldestPending time.Duration `json:"-"`
	OldestAgeMs   int64         `json:"oldestAgeMs"`
}

// ReadBacklog counts the undelivered rows of the outbox in db.
func ReadBacklog(ctx context.Context, db *sqlx.DB, now time.Time) (Backlog, error) {
	const q = `SELECT COUNT(*) AS pending,
COALESCE(SUM(CASE WHEN last_error IS NOT NULL THEN 1 ELSE 0 END), 0) AS failing,
COALESCE(MIN(created_at), 0) AS oldest
FROM outbox WHERE delivered_at IS NULL`
	var r struct {
		Pending int   `db:"pending"`
		Failing int   `db:"failing"`
		Oldest  int64 `db:"oldest"`
	}
	if err := db.GetContext(ctx, &r, q); err != nil {
		return Backlog{}, fmt.Errorf("read outbox backlog: %w", err)
	}
	b := Backlog{Pending: r.Pending, Failing: r.Failing}
	if r.Pending > 0 {
		b.OldestPending = now.Sub(time.UnixMilli(r.Oldest))
		b.OldestAgeMs = b.OldestPending.Milliseconds()
	}
	return b, nil
}
