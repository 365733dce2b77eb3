package flags

import (
	_ "github.com/switchyardhq/switchyard/cmd/switchyard/config"
)
