package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
)

// loadFlagSet reads env's evaluators and flag-set metadata (empty for an unknown env).
func loadFlagSet(ctx context.Context, q queryer, env string) (domain.FlagSet, error) {
	var set domain.FlagSet
	const qMeta = `SELECT metadata FROM flag_environments WHERE name = ?`
	var raw string
	err := sqlx.GetContext(ctx, q, &raw, q.Rebind(qMeta), env)
	if errors.Is(err, sql.ErrNoRows) {
		return set, nil
	}
	if err != nil {
		return set, fmt.Errorf("select flag-set metadata of %s: %w", env, err)
	}
	if err := json.Unmarshal([]byte(raw), &set.Metadata); err != nil {
		return set, fmt.Errorf("decode flag-set metadata of %s: %w", env, err)
	}
	if len(set.Metadata) == 0 {
		set.Metadata = nil
	}

	const qEvaluators = `SELECT name, rule FROM flag_evaluators WHERE environment = ? ORDER BY name`
	var rows []struct {
		Name string `db:"name"`
		Rule string `db:"rule"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(qEvaluators), env); err != nil {
		return set, fmt.Errorf("select evaluators of %s: %w", env, err)
	}
	if len(rows) > 0 {
		set.Evaluators = make(map[string]json.RawMessage, len(rows))
		for _, r := range rows {
			set.Evaluators[r.Name] = json.RawMessage(r.Rule)
		}
	}
	return set, nil
}

// writeFlagSet stores what an import changed in env's flag set.
func writeFlagSet(ctx context.Context, tx *sqlx.Tx, env string, p *domain.ImportPlan) error {
	if err := ensureEnvironment(ctx, tx, env, p.Meta.At); err != nil {
		return err
	}
	if p.MetadataChanged {
		md, err := encodeObject(p.Set.Metadata)
		if err != nil {
			return fmt.Errorf("encode flag-set metadata: %w", err)
		}
		const q = `UPDATE flag_environments SET metadata = ? WHERE name = ?`
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), md, env); err != nil {
			return fmt.Errorf("update flag-set metadata of %s: %w", env, err)
		}
	}
	for _, name := range p.EvaluatorsRemoved {
		const q = `DELETE FROM flag_evaluators WHERE environment = ? AND name = ?`
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), env, name); err != nil {
			return fmt.Errorf("delete evaluator %s/%s: %w", env, name, err)
		}
	}
	for _, name := range append(append([]string{}, p.EvaluatorsAdded...), p.EvaluatorsChanged...) {
		const q = `INSERT INTO flag_evaluators (environment, name, rule, updated_at, updated_by, change_reason)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (environment, name) DO UPDATE SET
  rule = excluded.rule, updated_at = excluded.updated_at, updated_by = excluded.updated_by, change_reason = excluded.change_reason`
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), env, name, string(p.Set.Evaluators[name]),
			p.Meta.At.UnixMilli(), p.Meta.Actor, p.Meta.Reason); err != nil {
			return fmt.Errorf("write evaluator %s/%s: %w", env, name, err)
		}
	}
	return nil
}

func ensureEnvironment(ctx context.Context, tx *sqlx.Tx, env string, at time.Time) error {
	const q = `INSERT INTO flag_environments (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), env, at.UnixMilli()); err != nil {
		return fmt.Errorf("upsert environment %s: %w", env, err)
	}
	return nil
}

// environmentExists reads env's row, with lock appended to the query (" FOR UPDATE" on
// PostgreSQL, where taking the row first orders concurrent writers of one environment).
func environmentExists(ctx context.Context, q queryer, env, lock string) (bool, error) {
	const query = `SELECT name FROM flag_environments WHERE name = ?`
	var name string
	err := sqlx.GetContext(ctx, q, &name, q.Rebind(query+lock), env)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up environment %s: %w", env, err)
	}
	return true, nil
}

// encodeObject encodes a map as a JSON object, nil as {}.
func encodeObject[V any](m map[string]V) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}
