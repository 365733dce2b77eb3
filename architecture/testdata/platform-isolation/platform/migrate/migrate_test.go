package migrate_test

import (
	_ "github.com/switchyardhq/switchyard/migrations"
	_ "github.com/switchyardhq/switchyard/platform/migrate"
	_ "testing"
)
