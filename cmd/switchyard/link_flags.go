//go:build !read

package main

import (
	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/modules/flags"
)

const flagsLinked = true

func newFlags(db *sqlx.DB, d moduleDeps, dispatch dispatcher) (commandModule, error) {
	return flags.New(flags.Deps{DB: db, Logger: d.logger, AdminAuth: d.adminAuth, Dispatcher: dispatch})
}
