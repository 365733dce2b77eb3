package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/sdk/internal/flageval"
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
	flag    *flageval.Flag
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
	return decide(f, evalCtx, SourceSecondary), nil
}

func (s *secondaryLayer) flag(key string, row *flagRow) (*flageval.Flag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.compiled[key]; ok && c.version == row.version {
		return c.flag, nil
	}
	var src flageval.Source
	if err := json.Unmarshal(row.definition, &src.Definition); err != nil {
		return nil, fmt.Errorf("decode the definition of %q v%d: %w", key, row.version, err)
	}
	if err := unmarshalOptional(row.evaluators, &src.Evaluators); err != nil {
		return nil, fmt.Errorf("decode the evaluators of %q v%d: %w", key, row.version, err)
	}
	if err := unmarshalOptional(row.flagSetMetadata, &src.FlagSetMetadata); err != nil {
		return nil, fmt.Errorf("decode the flag-set metadata of %q v%d: %w", key, row.version, err)
	}
	f := flageval.Compile(key, src)
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

// decide evaluates a compiled flag into an answer. Only a targeted flag reads the clock.
func decide(f *flageval.Flag, evalCtx map[string]any, src Source) answer {
	var now int64
	if !f.Static() {
		now = time.Now().Unix()
	}
	return answer{d: f.Evaluate(evalCtx, now), metadata: f.Metadata, source: src}
}
