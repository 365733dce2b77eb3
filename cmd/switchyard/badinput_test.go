//go:build !command && !read

package main

import (
	"testing"

	"github.com/switchyardhq/switchyard/e2e/suite"
)

// TestBadInputGetsAPreciseError runs the shared e2e suite's bad-input table (every
// endpoint, status, media type, what the error names) against the in-process monolith.
func TestBadInputGetsAPreciseError(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	suite.BadInput(t, s.deployment(busSync))
}
