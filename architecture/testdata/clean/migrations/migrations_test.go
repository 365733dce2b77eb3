package migrations_test

import (
	_ "github.com/switchyardhq/switchyard/migrations"
	_ "testing"
)
