package main

import (
	_ "github.com/switchyardhq/switchyard/modules/audit"
	_ "github.com/switchyardhq/switchyard/modules/evaluation"
	_ "github.com/switchyardhq/switchyard/modules/flags"
)
