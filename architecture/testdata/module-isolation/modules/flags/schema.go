package flags

import (
	_ "embed"
	_ "github.com/switchyardhq/switchyard/migrations"
)
