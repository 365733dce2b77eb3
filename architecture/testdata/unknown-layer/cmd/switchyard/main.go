package main

import (
	_ "github.com/switchyardhq/switchyard/internal/clock"
	_ "github.com/switchyardhq/switchyard/utils"
)
