//go:build command || read

package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestASideAloneNeedsABroker: a command or read binary exchanges events with the other
// side's pods, so starting it without NATS is an error that says what to configure.
func TestASideAloneNeedsABroker(t *testing.T) {
	for _, busMode := range []string{busSync, busAsync} {
		env := map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_ADDR": "127.0.0.1:0",
			"SWITCHYARD_ADMIN_TOKENS": "ci:ci-token-0123456789", "SWITCHYARD_BUS": busMode}
		err := run(context.Background(), []string{"switchyard", "serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "set SWITCHYARD_BUS=async and SWITCHYARD_NATS_URL") {
			t.Fatalf("bus %s: err %v, want the start-up error naming the settings", busMode, err)
		}
	}
}
