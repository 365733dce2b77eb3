package audit

import (
	_ "github.com/switchyardhq/switchyard/contracts/flagsv1"
	_ "github.com/switchyardhq/switchyard/platform/bus"
)
