package e2e_test

import (
	_ "github.com/switchyardhq/switchyard/modules/flags"
	_ "testing"
)
