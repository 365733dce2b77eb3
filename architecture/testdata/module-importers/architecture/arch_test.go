package architecture

import (
	_ "github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	_ "testing"
)
