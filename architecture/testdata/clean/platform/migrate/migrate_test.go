package migrate_test

import (
	_ "github.com/switchyardhq/switchyard/platform/migrate"
	_ "github.com/switchyardhq/switchyard/platform/sqlitedb"
	_ "testing"
)
