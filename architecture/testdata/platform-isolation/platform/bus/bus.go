package bus

import (
	_ "github.com/switchyardhq/switchyard/contracts/flagsv1"
	_ "github.com/switchyardhq/switchyard/modules/flags"
	_ "github.com/switchyardhq/switchyard/platform/apperr"
)
