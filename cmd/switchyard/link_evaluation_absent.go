//go:build command

package main

import "github.com/jmoiron/sqlx"

const evaluationLinked = false

func newEvaluation(*sqlx.DB, moduleDeps) (readModule, error) { return nil, nil }
