//go:build tools

package tools

import (
	_ "github.com/pressly/goose/v3/cmd/goose"
)
