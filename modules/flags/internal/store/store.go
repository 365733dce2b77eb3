// Package store keeps the flags module's tables. It owns the transaction: a change is
// decided by a closure over the current flag, and the new row, its history row and its
// outbox event are written together or not at all.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/platform/apperr"
	"github.com/switchyardhq/switchyard/platform/outbox"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// Store is the flags module's persistence.
type Store struct {
	db *sqlx.DB
	// forUpdate suffixes the reads that decide a write: " FOR UPDATE" on PostgreSQL, empty
	// on SQLite, whose BEGIN IMMEDIATE already serializes writers.
	forUpdate string
}

// New returns a store over the flags module's database, SQLite or PostgreSQL; every
// query is written with `?` placeholders and rebound to the database's dialect.
func New(db *sqlx.DB) *Store {
	if db == nil {
		panic("store.New: nil db")
	}
	s := &Store{db: db}
	if storage.DialectOf(db) == storage.Postgres {
		s.forUpdate = " FOR UPDATE"
	}
	return s
}

// queryer is what reads need from a *sqlx.DB or *sqlx.Tx: queries and the dialect's binds.
type queryer interface {
	sqlx.QueryerContext
	Rebind(query string) string
}

type flagRow struct {
	Environment  string `db:"environment"`
	Key          string `db:"flag_key"`
	Version      int64  `db:"version"`
	Definition   string `db:"definition"`
	Archived     bool   `db:"archived"`
	CreatedAt    int64  `db:"created_at"`
	UpdatedAt    int64  `db:"updated_at"`
	UpdatedBy    string `db:"updated_by"`
	ChangeReason string `db:"change_reason"`
}

const flagColumns = `environment, flag_key, version, definition, archived, created_at, updated_at, updated_by, change_reason`

func (r flagRow) toDomain() (domain.Flag, error) {
	var def flagsv1.Definition
	if err := json.Unmarshal([]byte(r.Definition), &def); err != nil {
		return domain.Flag{}, fmt.Errorf("decode stored definition of %s/%s: %w", r.Environment, r.Key, err)
	}
	return domain.Flag{
		Environment: r.Environment, Key: r.Key, Version: r.Version, Definition: def, Archived: r.Archived,
		CreatedAt: time.UnixMilli(r.CreatedAt).UTC(), UpdatedAt: time.UnixMilli(r.UpdatedAt).UTC(),
		UpdatedBy: r.UpdatedBy, ChangeReason: r.ChangeReason,
	}, nil
}

// Get returns a flag, archived or not, or a NotFound error.
func (s *Store) Get(ctx context.Context, env, key string) (domain.Flag, error) {
	f, err := get(ctx, s.db, env, key, "")
	if err != nil {
		return domain.Flag{}, err
	}
	if f == nil {
		return domain.Flag{}, apperr.New(apperr.NotFound, "flag %q not found in environment %q", key, env)
	}
	return *f, nil
}

// get reads a flag (nil when it never existed); lock is appended to the query (" FOR UPDATE"
// when the read decides a write on PostgreSQL).
func get(ctx context.Context, q queryer, env, key, lock string) (*domain.Flag, error) {
	const query = `SELECT ` + flagColumns + ` FROM flag_definitions WHERE environment = ? AND flag_key = ?`
	var r flagRow
	err := sqlx.GetContext(ctx, q, &r, q.Rebind(query+lock), env, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("select flag %s/%s: %w", env, key, err)
	}
	f, err := r.toDomain()
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// List returns up to limit flags of env with keys after afterKey, in key order.
func (s *Store) List(ctx context.Context, env, afterKey string, limit int, includeArchived bool) ([]domain.Flag, error) {
	const q = `SELECT ` + flagColumns + ` FROM flag_definitions
WHERE environment = ? AND flag_key > ? AND (NOT archived OR CAST(? AS BOOLEAN))
ORDER BY flag_key LIMIT ?`
	var rows []flagRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), env, afterKey, includeArchived, limit); err != nil {
		return nil, fmt.Errorf("list flags of %s: %w", env, err)
	}
	flags := make([]domain.Flag, 0, len(rows))
	for _, r := range rows {
		f, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		flags = append(flags, f)
	}
	return flags, nil
}

// Decide turns the current flag (nil when it never existed) into a change, or nil for
// none; set is the environment's flag set, read in the same transaction.
type Decide func(current *domain.Flag, set domain.FlagSet) (*domain.Change, error)

// Update runs decide over the current flag in one write transaction and persists what it
// decides: the flag row, its history row and its outbox event (held for hold, see
// outbox.Enqueue). It returns the resulting flag and the change (nil when decide made none).
func (s *Store) Update(ctx context.Context, env, key string, hold time.Duration, decide Decide) (domain.Flag, *domain.Change, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return domain.Flag{}, nil, fmt.Errorf("begin flag update: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	// On PostgreSQL the environment's row is locked first (every write to an environment
	// takes it, in the same order), then the flag's: the flag set and the flag read here
	// stay what decide saw until commit.
	if _, err := environmentExists(ctx, tx, env, s.forUpdate); err != nil {
		return domain.Flag{}, nil, err
	}
	current, err := get(ctx, tx, env, key, s.forUpdate)
	if err != nil {
		return domain.Flag{}, nil, err
	}
	set, err := loadFlagSet(ctx, tx, env)
	if err != nil {
		return domain.Flag{}, nil, err
	}
	change, err := decide(current, set)
	if err != nil {
		return domain.Flag{}, nil, err
	}
	if change == nil {
		if current == nil {
			return domain.Flag{}, nil, apperr.New(apperr.NotFound, "flag %q not found in environment %q", key, env)
		}
		return *current, nil, nil
	}
	if err := write(ctx, tx, change, hold); err != nil {
		return domain.Flag{}, nil, err
	}
	if err := tx.Commit(); err != nil {
		return domain.Flag{}, nil, fmt.Errorf("commit flag update %s/%s: %w", env, key, err)
	}
	return change.Next, change, nil
}

func write(ctx context.Context, tx *sqlx.Tx, c *domain.Change, hold time.Duration) error {
	f := c.Next
	def, err := json.Marshal(f.Definition)
	if err != nil {
		return fmt.Errorf("encode definition: %w", err)
	}
	payload, err := json.Marshal(c.Event)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	evaluators, err := encodeObject(c.Event.Evaluators)
	if err != nil {
		return fmt.Errorf("encode evaluators: %w", err)
	}
	setMetadata, err := encodeObject(c.Event.FlagSetMetadata)
	if err != nil {
		return fmt.Errorf("encode flag-set metadata: %w", err)
	}
	if err := ensureEnvironment(ctx, tx, f.Environment, f.UpdatedAt); err != nil {
		return err
	}
	const upsertFlag = `INSERT INTO flag_definitions (` + flagColumns + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (environment, flag_key) DO UPDATE SET
  version = excluded.version, definition = excluded.definition, archived = excluded.archived,
  updated_at = excluded.updated_at, updated_by = excluded.updated_by, change_reason = excluded.change_reason`
	if _, err := tx.ExecContext(ctx, tx.Rebind(upsertFlag), f.Environment, f.Key, f.Version, string(def), f.Archived,
		f.CreatedAt.UnixMilli(), f.UpdatedAt.UnixMilli(), f.UpdatedBy, f.ChangeReason); err != nil {
		return fmt.Errorf("write flag %s/%s: %w", f.Environment, f.Key, err)
	}
	const insertVersion = `INSERT INTO flag_versions
(environment, flag_key, version, event_id, event_type, definition, archived, actor, reason, changed_at, evaluators, flag_set_metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(insertVersion), f.Environment, f.Key, f.Version, c.Event.EventID, c.Event.Type,
		string(def), f.Archived, f.UpdatedBy, f.ChangeReason, f.UpdatedAt.UnixMilli(), evaluators, setMetadata); err != nil {
		if storage.IsUniqueViolation(err) {
			// Another transaction wrote this version first (two first writes of a flag in
			// a new environment have no row to lock): nothing of this one is kept.
			return &apperr.Error{Kind: apperr.Conflict, Err: err, Detail: fmt.Sprintf(
				"flag %q in environment %q was changed concurrently; read it again and retry", f.Key, f.Environment)}
		}
		return fmt.Errorf("write history of %s/%s v%d: %w", f.Environment, f.Key, f.Version, err)
	}
	msg := outbox.Message{EventID: c.Event.EventID, Topic: flagsv1.Topic, EventType: c.Event.Type, Payload: payload}
	return outbox.Enqueue(ctx, tx, msg, f.UpdatedAt, hold)
}
