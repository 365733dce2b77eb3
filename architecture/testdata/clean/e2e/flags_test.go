package e2e_test

import (
	_ "github.com/switchyardhq/switchyard/modules/evaluation"
	_ "github.com/switchyardhq/switchyard/modules/flags"
	_ "github.com/switchyardhq/switchyard/platform/sqlitedb"
	_ "net/http/httptest"
)
