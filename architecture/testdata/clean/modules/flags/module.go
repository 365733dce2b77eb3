package flags

import (
	_ "github.com/labstack/echo/v4"
	_ "github.com/switchyardhq/switchyard/contracts/flagsv1"
	_ "github.com/switchyardhq/switchyard/modules/flags/internal/store"
	_ "github.com/switchyardhq/switchyard/platform/httpx"
	_ "github.com/switchyardhq/switchyardctl/api"
)
