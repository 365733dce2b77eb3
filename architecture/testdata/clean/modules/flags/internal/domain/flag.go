package domain

import (
	_ "github.com/switchyardhq/switchyard/platform/apperr"
)
