package bad

import (
	_ "github.com/switchyardhq/switchyard/cmd/switchyard"
	_ "github.com/switchyardhq/switchyard/modules/audit"
)
