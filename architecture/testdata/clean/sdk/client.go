package sdk

import (
	_ "github.com/switchyardhq/switchyard/modules/evaluation/internal/snapshot"
	_ "github.com/switchyardhq/switchyard/platform/bus"
)
