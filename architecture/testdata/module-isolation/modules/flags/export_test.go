package flags_test

import (
	_ "github.com/switchyardhq/switchyard/modules/evaluation"
	_ "github.com/switchyardhq/switchyard/modules/flags"
	_ "testing"
)
