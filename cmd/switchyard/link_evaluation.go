//go:build !command

package main

import (
	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/modules/evaluation"
)

const evaluationLinked = true

func newEvaluation(db *sqlx.DB, d moduleDeps) (readModule, error) {
	return evaluation.New(evaluation.Deps{DB: db, Logger: d.logger, DefaultEnvironment: d.cfg.Environment})
}
