package flags

import (
	_ "github.com/switchyardhq/switchyard/migrations"
	_ "testing"
)
