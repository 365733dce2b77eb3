//go:build !command

package main

import (
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/metrics"
)

const evaluationLinked = true

// newEvaluation builds the evaluation module and registers its metrics: evaluations by
// reason, open change streams and the default environment's snapshot revision.
func newEvaluation(db *sqlx.DB, d moduleDeps) (readModule, error) {
	var snapshotAuth echo.MiddlewareFunc
	if len(d.cfg.SDKTokens) > 0 {
		snapshotAuth = httpx.RequireBearer(d.cfg.SDKTokens)
	}
	evals, err := metrics.NewEvaluations(d.metrics)
	if err != nil {
		return nil, err
	}
	m, err := evaluation.New(evaluation.Deps{DB: db, Logger: d.logger, DefaultEnvironment: d.cfg.Environment,
		EventStreams: evaluation.EventStreamOptions{MaxStreams: d.cfg.MaxEventStreams}, SnapshotAuth: snapshotAuth,
		OnEvaluation: evals.Observe})
	if err != nil {
		return nil, err
	}
	if err := metrics.NewEventStreams(d.metrics, m.OpenStreams); err != nil {
		return nil, err
	}
	if err := metrics.NewSnapshotRevision(d.metrics, d.cfg.Environment, m.SnapshotRevision); err != nil {
		return nil, err
	}
	return m, nil
}
