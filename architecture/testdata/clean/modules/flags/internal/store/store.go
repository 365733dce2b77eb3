package store

import (
	_ "github.com/jmoiron/sqlx"
	_ "github.com/switchyardhq/switchyard/contracts/flagsv1"
	_ "github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	_ "github.com/switchyardhq/switchyard/platform/outbox"
)
