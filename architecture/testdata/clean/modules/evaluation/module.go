package evaluation

import (
	_ "github.com/switchyardhq/switchyard/contracts/ofrepv1"
	_ "github.com/switchyardhq/switchyard/platform/inbox"
)
