//go:build read

package main

import (
	_ "github.com/switchyardhq/switchyard/modules/evaluation"
)
