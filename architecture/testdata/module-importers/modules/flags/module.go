package flags

import (
	_ "github.com/switchyardhq/switchyard/modules/flags/internal/domain"
)
