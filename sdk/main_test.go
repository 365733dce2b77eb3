package sdk_test

import (
	"testing"

	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

// serverBin is Switchyard built from this repository, for the tests that run it.
var serverBin string

func TestMain(m *testing.M) { testenv.RunWithServer(m, &serverBin) }
