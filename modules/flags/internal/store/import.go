package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
)

// PlanFunc decides an import over the environment as it is inside the transaction.
type PlanFunc func(env domain.Environment) (*domain.ImportPlan, error)

// Environment returns env's flags (archived ones included) and its flag set, as of one
// moment (one transaction).
func (s *Store) Environment(ctx context.Context, env string) (domain.Environment, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return domain.Environment{}, fmt.Errorf("begin read of %s: %w", env, err)
	}
	defer func() { _ = tx.Rollback() }()
	return loadEnvironment(ctx, tx, env, "")
}

// Import plans an import over env in one write transaction and, unless dryRun, writes
// all of it there: every changed flag with its history row and outbox event (held for
// hold), and the flag set's evaluators and metadata. A dry run writes nothing; it runs
// in the same transaction shape so that it sees exactly what a real run would.
func (s *Store) Import(ctx context.Context, env string, hold time.Duration, dryRun bool, plan PlanFunc) (*domain.ImportPlan, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	current, err := loadEnvironment(ctx, tx, env, s.forUpdate)
	if err != nil {
		return nil, err
	}
	p, err := plan(current)
	if err != nil || dryRun {
		return p, err
	}
	if p.SetChanged() {
		if err := writeFlagSet(ctx, tx, env, p); err != nil {
			return nil, err
		}
	}
	for _, c := range p.Changes {
		if err := write(ctx, tx, c, hold); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit import into %s: %w", env, err)
	}
	return p, nil
}

// loadEnvironment reads env as of q's transaction; lock (" FOR UPDATE" when the read
// decides an import on PostgreSQL) is appended to the reads of the environment's row and
// of its flags.
func loadEnvironment(ctx context.Context, q queryer, env, lock string) (domain.Environment, error) {
	out := domain.Environment{Name: env, Flags: map[string]domain.Flag{}}
	exists, err := environmentExists(ctx, q, env, lock)
	if err != nil {
		return out, err
	}
	out.Exists = exists
	if !out.Exists {
		return out, nil
	}
	const qFlags = `SELECT ` + flagColumns + ` FROM flag_definitions WHERE environment = ? ORDER BY flag_key`
	var rows []flagRow
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(qFlags+lock), env); err != nil {
		return out, fmt.Errorf("select flags of %s: %w", env, err)
	}
	for _, r := range rows {
		f, err := r.toDomain()
		if err != nil {
			return out, err
		}
		out.Flags[f.Key] = f
	}
	set, err := loadFlagSet(ctx, q, env)
	if err != nil {
		return out, err
	}
	out.Set = set
	return out, nil
}
