package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
)

// secondaryMaxConns bounds the pool: the secondary is a fallback, not a second primary.
const secondaryMaxConns = 4

// secondaryLayer reads the evaluation module's own tables through a read-only role and
// evaluates in-process with the server's engine. Each flag's compiled form is kept per
// version, so a flag is compiled again only when it changed.
type secondaryLayer struct {
	pool        *pgxpool.Pool
	query       string
	environment string
	br          *layerBreaker

	mu       sync.Mutex
	compiled map[string]compiledFlag
}

type compiledFlag struct {
	version int64
	flag    *localFlag
}

func newSecondaryLayer(o SecondaryOptions, br *layerBreaker) (*secondaryLayer, error) {
	cfg, err := pgxpool.ParseConfig(o.PostgresDSN)
	if err != nil {
		return nil, fmt.Errorf("%w: Secondary.PostgresDSN: %w", ErrInvalidOptions, err)
	}
	cfg.MaxConns = secondaryMaxConns
	cfg.MinConns = 0
	// No connection is opened here (pgxpool connects lazily), so New works with the
	// database down; the breaker bounds each query, connecting included.
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: Secondary.PostgresDSN: %w", ErrInvalidOptions, err)
	}
	table := pgx.Identifier{o.Schema, "evaluation_flags"}.Sanitize()
	return &secondaryLayer{
		pool: pool, environment: o.Environment, br: br, compiled: map[string]compiledFlag{},
		query: `SELECT version, definition, evaluators, flag_set_metadata FROM ` + table +
			` WHERE environment = $1 AND flag_key = $2 AND NOT archived`,
	}, nil
}

type flagRow struct {
	version         int64
	definition      []byte
	evaluators      []byte
	flagSetMetadata []byte
}

// evaluate reads key's row and evaluates it. A flag that is not there is an answer
// (FLAG_NOT_FOUND), as on the server.
func (s *secondaryLayer) evaluate(ctx context.Context, key string, evalCtx map[string]any) (answer, error) {
	row, err := call(ctx, s.br, func(ctx context.Context) (*flagRow, error) {
		var r flagRow
		err := s.pool.QueryRow(ctx, s.query, s.environment, key).Scan(&r.version, &r.definition, &r.evaluators, &r.flagSetMetadata)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &r, nil
	})
	if err != nil {
		return answer{}, fmt.Errorf("secondary: %w", err)
	}
	if row == nil {
		return failed(SourceSecondary, ofrepv1.ErrorFlagNotFound,
			fmt.Sprintf("flag '%s' not found in environment '%s'", key, s.environment)), nil
	}
	f, err := s.flag(key, row)
	if err != nil {
		return answer{}, fmt.Errorf("secondary: %w", err)
	}
	return f.evaluate(evalCtx, SourceSecondary), nil
}

// flag compiles row, or returns its compiled form when the row's version has not changed.
// The row is read as a one-flag snapshot, so that it compiles as a synced one does.
func (s *secondaryLayer) flag(key string, row *flagRow) (*localFlag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.compiled[key]; ok && c.version == row.version {
		return c.flag, nil
	}
	var def flagsv1.Definition
	if err := json.Unmarshal(row.definition, &def); err != nil {
		return nil, fmt.Errorf("decode the definition of %q v%d: %w", key, row.version, err)
	}
	one := snapshotv1.Snapshot{Flags: map[string]flagsv1.Definition{key: def}}
	if err := unmarshalOptional(row.evaluators, &one.Evaluators); err != nil {
		return nil, fmt.Errorf("decode the evaluators of %q v%d: %w", key, row.version, err)
	}
	if err := unmarshalOptional(row.flagSetMetadata, &one.Metadata); err != nil {
		return nil, fmt.Errorf("decode the flag-set metadata of %q v%d: %w", key, row.version, err)
	}
	f := compileFlag(one, key)
	s.compiled[key] = compiledFlag{version: row.version, flag: f}
	return f, nil
}

func unmarshalOptional(data []byte, v any) error {
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, v)
}

func (s *secondaryLayer) close() { s.pool.Close() }
