package timeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/platform/inbox"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// followLockClass is the first key of the PostgreSQL advisory lock that orders the
// recording transactions (see Record); the second is the OID of this schema's
// audit_entries table, so that stores in other schemas of the same database do not wait
// on each other. The value spells "audt" and is used by nothing else in Switchyard.
const followLockClass = 0x61756474

// Store reads and writes the audit_entries table.
type Store struct {
	db      *sqlx.DB
	dialect storage.Dialect

	// Test seams, set only by this package's tests. beforeCommit runs between the insert
	// and the commit of a recorded entry (to widen the window in which other recorders
	// and followers interleave); unordered skips the follow lock, to show what it prevents.
	beforeCommit func(ctx context.Context, e Entry) error
	unordered    bool
}

// NewStore returns a store over db, which must hold the audit schema.
func NewStore(db *sqlx.DB) *Store {
	if db == nil {
		panic("timeline.NewStore: nil db")
	}
	return &Store{db: db, dialect: storage.DialectOf(db)}
}

// Record claims e.EventID for consumer in the inbox and inserts e, in one transaction.
// It returns false, changing nothing, when consumer already recorded the event.
//
// Recording transactions commit in seq order, which Follow relies on. SQLite has one
// writer at a time (the transaction takes the write lock at BEGIN IMMEDIATE and keeps it
// to its commit, and seq is assigned inside it), so this holds by construction. On
// PostgreSQL seq comes from an identity sequence when the row is inserted, and concurrent
// recorders would commit in any order; so the insert is preceded by a transaction-scoped
// advisory lock, held until commit or rollback: the next recorder draws its seq only after
// the previous one has ended, and PostgreSQL makes a transaction visible before it
// releases its locks. The lock covers only the insert and the commit (the inbox claim,
// which may wait on a duplicate delivery, comes before it); audit writes are few.
func (s *Store) Record(ctx context.Context, consumer string, e Entry) (recorded bool, err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin record %s: %w", e.EventID, err)
	}
	defer func() {
		if err != nil || !recorded {
			_ = tx.Rollback()
		}
	}()

	claimed, err := inbox.Claim(ctx, tx, consumer, e.EventID, e.RecordedAt)
	if err != nil {
		return false, err
	}
	if !claimed {
		return false, nil
	}

	if s.dialect == storage.Postgres && !s.unordered {
		const lock = `SELECT pg_advisory_xact_lock($1, 'audit_entries'::regclass::oid::int4)`
		if _, err := tx.ExecContext(ctx, lock, followLockClass); err != nil {
			return false, fmt.Errorf("lock audit timeline for %s: %w", e.EventID, err)
		}
	}
	const q = `INSERT INTO audit_entries (event_id, event_type, action, occurred_at, recorded_at, actor,
environment, flag_key, version, reason, before_json, after_json)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), e.EventID, e.EventType, e.Action,
		e.OccurredAt.UnixMilli(), e.RecordedAt.UnixMilli(), e.Actor, e.Environment, e.FlagKey,
		e.Version, e.Reason, nullJSON(e.Before), nullJSON(e.After)); err != nil {
		return false, fmt.Errorf("insert audit entry %s: %w", e.EventID, err)
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(ctx, e); err != nil {
			return false, fmt.Errorf("before commit of audit entry %s: %w", e.EventID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit audit entry %s: %w", e.EventID, err)
	}
	return true, nil
}

// List returns up to f.Limit entries matching f, newest first.
func (s *Store) List(ctx context.Context, f Filter) (Page, error) {
	const base = `SELECT seq, event_id, event_type, action, occurred_at, recorded_at, actor,
environment, flag_key, version, reason, before_json, after_json FROM audit_entries`
	const order = ` ORDER BY occurred_at DESC, seq DESC LIMIT ?`

	var conds []string
	var args []any
	add := func(cond string, vals ...any) {
		conds = append(conds, cond)
		args = append(args, vals...)
	}
	if f.Environment != "" {
		add("environment = ?", f.Environment)
	}
	if f.FlagKey != "" {
		add("flag_key = ?", f.FlagKey)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if !f.Since.IsZero() {
		add("occurred_at >= ?", ceilMilli(f.Since))
	}
	if !f.Until.IsZero() {
		add("occurred_at < ?", ceilMilli(f.Until))
	}
	if f.After != nil {
		add("(occurred_at, seq) < (?, ?)", f.After.OccurredAtMs, f.After.Seq)
	}
	q := base
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += order
	// One row more than asked tells whether another page follows.
	args = append(args, f.Limit+1)

	var rows []row
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return Page{}, fmt.Errorf("select audit entries: %w", err)
	}
	page := Page{Entries: make([]Entry, 0, min(len(rows), f.Limit))}
	for i, r := range rows {
		if i == f.Limit {
			last := page.Entries[len(page.Entries)-1]
			page.Next = &Position{OccurredAtMs: last.OccurredAt.UnixMilli(), Seq: last.Seq}
			break
		}
		page.Entries = append(page.Entries, r.entry())
	}
	return page, nil
}

type row struct {
	Seq         int64          `db:"seq"`
	EventID     string         `db:"event_id"`
	EventType   string         `db:"event_type"`
	Action      string         `db:"action"`
	OccurredAt  int64          `db:"occurred_at"`
	RecordedAt  int64          `db:"recorded_at"`
	Actor       string         `db:"actor"`
	Environment string         `db:"environment"`
	FlagKey     string         `db:"flag_key"`
	Version     int64          `db:"version"`
	Reason      string         `db:"reason"`
	Before      sql.NullString `db:"before_json"`
	After       sql.NullString `db:"after_json"`
}

func (r row) entry() Entry {
	return Entry{
		Seq: r.Seq, EventID: r.EventID, EventType: r.EventType, Action: r.Action,
		OccurredAt: time.UnixMilli(r.OccurredAt).UTC(), RecordedAt: time.UnixMilli(r.RecordedAt).UTC(),
		Actor: r.Actor, Environment: r.Environment, FlagKey: r.FlagKey, Version: r.Version,
		Reason: r.Reason, Before: rawJSON(r.Before), After: rawJSON(r.After),
	}
}

func nullJSON(raw json.RawMessage) sql.NullString {
	if raw == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: string(raw), Valid: true}
}

func rawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}

// ceilMilli rounds t up to a whole millisecond, the precision occurred_at is stored in,
// so that ">= since" and "< until" keep their meaning for sub-millisecond bounds.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}
