package evaluation

import (
	_ "github.com/switchyardhq/switchyard/contracts/ofrepv1"
)
