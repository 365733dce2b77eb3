package migrations

import (
	_ "embed"
	_ "github.com/switchyardhq/switchyard/platform/migrate"
)
