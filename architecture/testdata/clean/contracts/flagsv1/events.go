package flagsv1

import (
	_ "github.com/switchyardhq/switchyard/contracts/ofrepv1"
	_ "time"
)
