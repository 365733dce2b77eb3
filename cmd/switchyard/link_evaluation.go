//go:build !command

package main

import (
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/httpx"
)

const evaluationLinked = true

func newEvaluation(db *sqlx.DB, d moduleDeps) (readModule, error) {
	var snapshotAuth echo.MiddlewareFunc
	if len(d.cfg.SDKTokens) > 0 {
		snapshotAuth = httpx.RequireBearer(d.cfg.SDKTokens)
	}
	return evaluation.New(evaluation.Deps{DB: db, Logger: d.logger, DefaultEnvironment: d.cfg.Environment,
		EventStreams: evaluation.EventStreamOptions{MaxStreams: d.cfg.MaxEventStreams}, SnapshotAuth: snapshotAuth})
}
