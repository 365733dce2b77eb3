package sdk_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

// serverBin is Switchyard built from this repository, for the tests that run it.
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchyard-sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin, err = testenv.BuildServer(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}
