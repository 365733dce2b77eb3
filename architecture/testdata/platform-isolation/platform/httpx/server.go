package httpx

import (
	_ "github.com/switchyardhq/switchyard/cmd/switchyard"
	_ "github.com/switchyardhq/switchyard/platform/apperr"
)
