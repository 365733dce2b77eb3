package flags

import (
	_ "github.com/switchyardhq/switchyard/platform/bus"
)
