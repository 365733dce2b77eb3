package main

import (
	_ "github.com/switchyardhq/switchyard/modules/flags"
)
