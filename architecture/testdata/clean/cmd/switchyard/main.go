package main

import (
	_ "context"
	_ "github.com/labstack/echo/v4"
	_ "github.com/switchyardhq/switchyard/contracts/flagsv1"
	_ "github.com/switchyardhq/switchyard/migrations"
	_ "github.com/switchyardhq/switchyard/modules/audit"
	_ "github.com/switchyardhq/switchyard/modules/flags"
	_ "github.com/switchyardhq/switchyard/platform/httpx"
	_ "os"
)
