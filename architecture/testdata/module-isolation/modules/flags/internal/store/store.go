package store

import (
	_ "github.com/switchyardhq/switchyard/modules/audit/internal/timeline"
	_ "github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	_ "github.com/switchyardhq/switchyard/platform/outbox"
)
