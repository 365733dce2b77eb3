package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/platform/migrate"
)

// stores are the modules' databases: one SQLite file each, so that each module can be
// pointed at a database of its own.
type stores struct {
	flags, evaluation, audit *sqlx.DB
}

func (s *stores) byModule() map[string]**sqlx.DB {
	return map[string]**sqlx.DB{"flags": &s.flags, "evaluation": &s.evaluation, "audit": &s.audit}
}

// openStores opens every module's database (its PostgreSQL DSN, or a SQLite file in the
// data directory) and applies its migrations.
func openStores(ctx context.Context, cfg config, logger *slog.Logger) (*stores, map[string]int64, error) {
	s := &stores{}
	versions := make(map[string]int64)
	dbs := s.byModule()
	for _, module := range migrations.Modules() {
		if !linked(module) {
			continue
		}
		target := cfg.DSNs[module]
		if target == "" {
			target = filepath.Join(cfg.DataDir, module+".db")
		}
		db, dialect, v, err := migrate.Open(ctx, target, module, migrations.For, logger)
		if err != nil {
			return nil, nil, errors.Join(err, s.Close())
		}
		*dbs[module] = db
		versions[module] = v
		logger.InfoContext(ctx, "module store ready", "module", module, "dialect", string(dialect), "schema_version", v)
	}
	return s, versions, nil
}

func (s *stores) Close() error {
	var errs []error
	for module, db := range s.byModule() {
		if *db != nil {
			if err := (*db).Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s database: %w", module, err))
			}
		}
	}
	return errors.Join(errs...)
}

func migrateAll(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	logger := newLogger(stderr, cfg.LogLevel)
	s, versions, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	for _, module := range migrations.Modules() {
		if linked(module) {
			fmt.Fprintf(stdout, "%s: schema version %d\n", module, versions[module])
		}
	}
	return s.Close()
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
