package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchyardhq/switchyard/platform/apperr"
)

// Entry is an undelivered outbox row as an operator sees it.
type Entry struct {
	EventID       string    `json:"eventId"`
	EventType     string    `json:"eventType"`
	Topic         string    `json:"topic"`
	Attempts      int       `json:"attempts"`
	LastError     string    `json:"lastError,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	NextAttemptAt time.Time `json:"nextAttemptAt"`
}

// entryRow is an Entry as stored.
type entryRow struct {
	EventID       string         `db:"event_id"`
	EventType     string         `db:"event_type"`
	Topic         string         `db:"topic"`
	Attempts      int            `db:"attempts"`
	LastError     sql.NullString `db:"last_error"`
	CreatedAt     int64          `db:"created_at"`
	NextAttemptAt int64          `db:"next_attempt_at"`
}

const entryColumns = `event_id, event_type, topic, attempts, last_error, created_at, next_attempt_at`

func (e entryRow) entry() Entry {
	return Entry{
		EventID: e.EventID, EventType: e.EventType, Topic: e.Topic, Attempts: e.Attempts,
		LastError: e.LastError.String, CreatedAt: time.UnixMilli(e.CreatedAt).UTC(),
		NextAttemptAt: time.UnixMilli(e.NextAttemptAt).UTC(),
	}
}

// MaxListLimit bounds ListFailing's limit.
const MaxListLimit = 500

// ListFailing returns up to limit undelivered rows whose last delivery attempt failed,
// oldest first. They stay in the outbox and are retried with backoff until delivered;
// Resubmit makes one due at once.
func (r *Relay) ListFailing(ctx context.Context, limit int) ([]Entry, error) {
	if limit < 1 || limit > MaxListLimit {
		return nil, apperr.InvalidField("limit", "limit must be between 1 and %d, got %d", MaxListLimit, limit)
	}
	const q = `SELECT ` + entryColumns + ` FROM outbox
WHERE delivered_at IS NULL AND last_error IS NOT NULL ORDER BY id LIMIT ?`
	var rows []entryRow
	if err := r.db.SelectContext(ctx, &rows, r.db.Rebind(q), limit); err != nil {
		return nil, fmt.Errorf("list failing outbox rows: %w", err)
	}
	entries := make([]Entry, 0, len(rows))
	for _, row := range rows {
		entries = append(entries, row.entry())
	}
	return entries, nil
}

// Resubmit makes the undelivered row of eventID due now and wakes the relay. It is
// NotFound when no such event is waiting (unknown, or already delivered). The row keeps
// its attempt count and last error until the next attempt.
func (r *Relay) Resubmit(ctx context.Context, eventID string) (Entry, error) {
	const q = `UPDATE outbox SET next_attempt_at = ?
WHERE event_id = ? AND delivered_at IS NULL
RETURNING ` + entryColumns
	var row entryRow
	err := r.db.GetContext(ctx, &row, r.db.Rebind(q), r.opts.Now().UnixMilli(), eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, apperr.New(apperr.NotFound, "no undelivered outbox event %q (unknown or already delivered)", eventID)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("resubmit outbox event %s: %w", eventID, err)
	}
	r.Notify()
	return row.entry(), nil
}
