package flagsv1

import (
	_ "github.com/switchyardhq/switchyard/cmd/switchyard"
	_ "testing"
)
