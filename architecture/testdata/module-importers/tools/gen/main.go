package main

import (
	_ "github.com/switchyardhq/switchyard/contracts/flagsv1"
	_ "github.com/switchyardhq/switchyard/modules/flags"
)
