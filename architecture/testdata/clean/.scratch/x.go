package x

import (
	_ "github.com/switchyardhq/switchyard/modules/flags"
)
