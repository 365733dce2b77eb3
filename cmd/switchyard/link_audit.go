//go:build !read

package main

import (
	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/modules/audit"
)

const auditLinked = true

func newAudit(db *sqlx.DB, d moduleDeps) (consumerModule, error) {
	return audit.New(audit.Deps{DB: db, Logger: d.logger, AdminAuth: d.adminAuth})
}
