package ofrepv1

import (
	_ "encoding/json"
	_ "github.com/switchyardhq/switchyard/modules/evaluation"
)
