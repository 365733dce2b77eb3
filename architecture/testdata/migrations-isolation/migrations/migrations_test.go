package migrations_test

import (
	_ "github.com/switchyardhq/switchyard/migrations"
	_ "github.com/switchyardhq/switchyard/modules/flags"
	_ "testing"
)
