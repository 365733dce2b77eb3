// Package store persists the evaluation module's projection of flag events in the
// module's own database: the last definition of every flag per environment and each
// environment's revision. It never reads another module's tables.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/inbox"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// Outcome says what Apply did with an event.
type Outcome int

// The outcomes of Apply.
const (
	Applied   Outcome = iota + 1 // the flag row and the environment's revision changed
	Duplicate                    // the event was processed before; nothing changed
	Stale                        // an equal or newer version was already projected; only the claim was recorded
)

func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Duplicate:
		return "duplicate"
	case Stale:
		return "stale"
	default:
		return fmt.Sprintf("outcome(%d)", int(o))
	}
}

// Environment is one environment as stored: its revision and its live (non-archived) flags.
type Environment struct {
	Name      string
	Revision  int64
	UpdatedAt time.Time // when Revision was reached
	Flags     map[string]Flag
}

// Flag is a live flag as stored: its definition with the shared rules its targeting
// references and its flag set's metadata, as the last event carried them.
type Flag struct {
	Definition      flagsv1.Definition
	Evaluators      map[string]json.RawMessage
	FlagSetMetadata map[string]any
	UpdatedAt       time.Time // when its last event was applied
}

// Store is the evaluation module's persistence.
type Store struct {
	db *sqlx.DB
}

// New returns a Store over db, which must carry the evaluation module's migrations.
func New(db *sqlx.DB) *Store {
	if db == nil {
		panic("evaluation store: nil db")
	}
	return &Store{db: db}
}

// Apply projects ev in one transaction, claimed in the inbox under consumer. When the
// outcome is Applied, revision is the environment's new revision.
func (s *Store) Apply(ctx context.Context, consumer string, ev flagsv1.FlagChanged, now time.Time) (outcome Outcome, revision int64, err error) {
	definition, state, err := rowOf(ev)
	if err != nil {
		return 0, 0, err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("begin projection of event %s: %w", ev.EventID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	claimed, err := inbox.Claim(ctx, tx, consumer, ev.EventID, now)
	if err != nil {
		return 0, 0, err
	}
	if !claimed {
		return Duplicate, 0, commit(tx, ev.EventID)
	}
	if err = ensureEnvironment(ctx, tx, ev.Environment, now); err != nil {
		return 0, 0, err
	}
	written, err := upsertFlag(ctx, tx, ev, state, definition, now)
	if err != nil {
		return 0, 0, err
	}
	if !written {
		return Stale, 0, commit(tx, ev.EventID)
	}
	if revision, err = bumpRevision(ctx, tx, ev.Environment, now); err != nil {
		return 0, 0, err
	}
	return Applied, revision, commit(tx, ev.EventID)
}

// rowOf returns the definition JSON and state to store for ev. An archive keeps the
// definition it archived (Before) so that the row still says what was served last.
func rowOf(ev flagsv1.FlagChanged) (definition sql.NullString, state string, err error) {
	if ev.EventID == "" || ev.Environment == "" || ev.FlagKey == "" {
		return definition, "", fmt.Errorf("event %q (%s %s/%s): event id, environment and flag key are required",
			ev.EventID, ev.Type, ev.Environment, ev.FlagKey)
	}
	switch ev.Type {
	case flagsv1.TypeFlagCreated, flagsv1.TypeFlagUpdated, flagsv1.TypeFlagStateChanged, flagsv1.TypeFlagArchived:
	default:
		return definition, "", fmt.Errorf("event %s: unknown event type %q", ev.EventID, ev.Type)
	}
	def := ev.After
	if ev.Archived() {
		def = ev.Before
	} else if def == nil {
		return definition, "", fmt.Errorf("event %s (%s %s/%s v%d): no definition after the change",
			ev.EventID, ev.Type, ev.Environment, ev.FlagKey, ev.Version)
	}
	if def == nil {
		return definition, "", nil
	}
	raw, err := json.Marshal(def)
	if err != nil {
		return definition, "", fmt.Errorf("encode definition of %s/%s v%d: %w", ev.Environment, ev.FlagKey, ev.Version, err)
	}
	return sql.NullString{String: string(raw), Valid: true}, def.State, nil
}

// ensureEnvironment creates the environment's row at revision 0 unless it exists, so that
// its flags can reference it; bumpRevision counts the applied events.
func ensureEnvironment(ctx context.Context, tx *sqlx.Tx, environment string, now time.Time) error {
	const q = `INSERT INTO evaluation_environments (name, revision, updated_at) VALUES (?, 0, ?)
ON CONFLICT (name) DO NOTHING`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), environment, now.UnixMilli()); err != nil {
		return fmt.Errorf("create environment %s: %w", environment, err)
	}
	return nil
}

func bumpRevision(ctx context.Context, tx *sqlx.Tx, environment string, now time.Time) (int64, error) {
	const q = `UPDATE evaluation_environments SET revision = revision + 1, updated_at = ? WHERE name = ?
RETURNING revision`
	var revision int64
	if err := tx.GetContext(ctx, &revision, tx.Rebind(q), now.UnixMilli(), environment); err != nil {
		return 0, fmt.Errorf("bump revision of environment %s: %w", environment, err)
	}
	return revision, nil
}

// upsertFlag writes ev's version of the flag unless the stored version is equal or newer;
// written says whether it did. The version check sits in the statement itself so that
// concurrent appliers (PostgreSQL, several processes) cannot both pass it: the conflicting
// row is locked and re-read before the WHERE is evaluated.
func upsertFlag(ctx context.Context, tx *sqlx.Tx, ev flagsv1.FlagChanged, state string, definition sql.NullString, now time.Time) (written bool, err error) {
	const q = `INSERT INTO evaluation_flags (environment, flag_key, version, state, definition, archived, event_id, updated_at,
    evaluators, flag_set_metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (environment, flag_key) DO UPDATE SET
    version           = excluded.version,
    state             = CASE WHEN excluded.definition IS NULL THEN evaluation_flags.state ELSE excluded.state END,
    definition        = COALESCE(excluded.definition, evaluation_flags.definition),
    archived          = excluded.archived,
    event_id          = excluded.event_id,
    updated_at        = excluded.updated_at,
    evaluators        = CASE WHEN excluded.definition IS NULL THEN evaluation_flags.evaluators ELSE excluded.evaluators END,
    flag_set_metadata = CASE WHEN excluded.definition IS NULL THEN evaluation_flags.flag_set_metadata ELSE excluded.flag_set_metadata END
WHERE evaluation_flags.version < excluded.version`
	evaluators, err := optionalJSON(ev.Evaluators)
	if err != nil {
		return false, fmt.Errorf("encode evaluators of %s/%s v%d: %w", ev.Environment, ev.FlagKey, ev.Version, err)
	}
	flagSetMetadata, err := optionalJSON(ev.FlagSetMetadata)
	if err != nil {
		return false, fmt.Errorf("encode flag-set metadata of %s/%s v%d: %w", ev.Environment, ev.FlagKey, ev.Version, err)
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(q), ev.Environment, ev.FlagKey, ev.Version, state, definition, ev.Archived(),
		ev.EventID, now.UnixMilli(), evaluators, flagSetMetadata)
	if err != nil {
		return false, fmt.Errorf("upsert flag %s/%s v%d: %w", ev.Environment, ev.FlagKey, ev.Version, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("upsert flag %s/%s v%d: rows affected: %w", ev.Environment, ev.FlagKey, ev.Version, err)
	}
	return n == 1, nil
}

// optionalJSON encodes a map as a JSON column, NULL when empty.
func optionalJSON[V any](m map[string]V) (sql.NullString, error) {
	if len(m) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func commit(tx *sqlx.Tx, eventID string) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit projection of event %s: %w", eventID, err)
	}
	return nil
}

// Revisions reads every environment's current revision: cheap enough to poll, so that a
// replica whose peers applied events (the inbox lets one replica apply each event) sees
// that its snapshots are behind.
func (s *Store) Revisions(ctx context.Context) (map[string]int64, error) {
	const q = `SELECT name, revision FROM evaluation_environments`
	var rows []struct {
		Name     string `db:"name"`
		Revision int64  `db:"revision"`
	}
	if err := s.db.SelectContext(ctx, &rows, q); err != nil {
		return nil, fmt.Errorf("select revisions: %w", err)
	}
	revs := make(map[string]int64, len(rows))
	for _, r := range rows {
		revs[r.Name] = r.Revision
	}
	return revs, nil
}

// Load reads every environment with its revision and live flags, in one transaction so
// that revisions and flags agree (on PostgreSQL a repeatable-read one: read committed
// would give each SELECT its own snapshot).
func (s *Store) Load(ctx context.Context) (envs []Environment, err error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if storage.DialectOf(s.db) == storage.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.BeginTxx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin loading projection: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	const qEnvs = `SELECT name, revision, updated_at FROM evaluation_environments ORDER BY name`
	var rows []struct {
		Name      string `db:"name"`
		Revision  int64  `db:"revision"`
		UpdatedAt int64  `db:"updated_at"`
	}
	if err := tx.SelectContext(ctx, &rows, qEnvs); err != nil {
		return nil, fmt.Errorf("select environments: %w", err)
	}
	byName := make(map[string]int, len(rows))
	for i, r := range rows {
		envs = append(envs, Environment{Name: r.Name, Revision: r.Revision, UpdatedAt: time.UnixMilli(r.UpdatedAt).UTC(), Flags: map[string]Flag{}})
		byName[r.Name] = i
	}

	const qFlags = `SELECT environment, flag_key, definition, evaluators, flag_set_metadata, updated_at FROM evaluation_flags WHERE NOT archived`
	flags, err := tx.QueryxContext(ctx, qFlags)
	if err != nil {
		return nil, fmt.Errorf("select flags: %w", err)
	}
	defer flags.Close()
	for flags.Next() {
		var env, key, raw string
		var evaluators, flagSetMetadata sql.NullString
		var updatedAt int64
		if err := flags.Scan(&env, &key, &raw, &evaluators, &flagSetMetadata, &updatedAt); err != nil {
			return nil, fmt.Errorf("scan flag: %w", err)
		}
		i, ok := byName[env]
		if !ok {
			return nil, fmt.Errorf("flag %s/%s: environment has no revision row", env, key)
		}
		f := Flag{UpdatedAt: time.UnixMilli(updatedAt).UTC()}
		if err := json.Unmarshal([]byte(raw), &f.Definition); err != nil {
			return nil, fmt.Errorf("decode stored definition of %s/%s: %w", env, key, err)
		}
		if err := decodeOptional(evaluators, &f.Evaluators); err != nil {
			return nil, fmt.Errorf("decode stored evaluators of %s/%s: %w", env, key, err)
		}
		if err := decodeOptional(flagSetMetadata, &f.FlagSetMetadata); err != nil {
			return nil, fmt.Errorf("decode stored flag-set metadata of %s/%s: %w", env, key, err)
		}
		envs[i].Flags[key] = f
	}
	if err := flags.Err(); err != nil {
		return nil, fmt.Errorf("read flags: %w", err)
	}
	return envs, nil
}

func decodeOptional(col sql.NullString, dst any) error {
	if !col.Valid {
		return nil
	}
	return json.Unmarshal([]byte(col.String), dst)
}
