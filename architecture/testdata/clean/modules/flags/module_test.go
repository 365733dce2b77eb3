package flags_test

import (
	_ "github.com/switchyardhq/switchyard/migrations"
	_ "github.com/switchyardhq/switchyard/modules/flags"
	_ "github.com/switchyardhq/switchyard/platform/sqlitedb"
	_ "testing"
)
