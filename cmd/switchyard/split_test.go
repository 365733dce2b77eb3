//go:build command || read

package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestASideAloneSaysHowItReachesTheOtherSide: a command or read binary exchanges events
// with the other side's pods (NATS when async, the HTTP push when sync), so starting it
// without that is an error naming what to configure; the other side's settings are refused.
func TestASideAloneSaysHowItReachesTheOtherSide(t *testing.T) {
	const pushURL, pushToken = "http://switchyard-read:8080", "push-token-0123456789"
	tests := []struct {
		name, side string
		env        map[string]string
		want       string
	}{
		{"command sync without push target", "command", map[string]string{"SWITCHYARD_BUS": busSync}, "set SWITCHYARD_PUSH_URL (the read service's base URL) and SWITCHYARD_PUSH_TOKEN"},
		{"command async without NATS", "command", map[string]string{"SWITCHYARD_BUS": busAsync}, "set SWITCHYARD_NATS_URL"},
		{"command given read tokens", "command", map[string]string{"SWITCHYARD_BUS": busSync, "SWITCHYARD_PUSH_URL": pushURL,
			"SWITCHYARD_PUSH_TOKEN": pushToken, "SWITCHYARD_PUSH_TOKENS": "command:" + pushToken}, "SWITCHYARD_PUSH_TOKENS is for a read-only binary"},
		{"read sync without push tokens", "read", map[string]string{"SWITCHYARD_BUS": busSync}, "set SWITCHYARD_PUSH_TOKENS"},
		{"read async without NATS", "read", map[string]string{"SWITCHYARD_BUS": busAsync}, "set SWITCHYARD_NATS_URL"},
		{"read given a push target", "read", map[string]string{"SWITCHYARD_BUS": busSync, "SWITCHYARD_PUSH_URL": pushURL,
			"SWITCHYARD_PUSH_TOKEN": pushToken, "SWITCHYARD_PUSH_TOKENS": "command:" + pushToken}, "SWITCHYARD_PUSH_URL is for a command-only binary"},
	}
	side := "read"
	if flagsLinked {
		side = "command"
	}
	for _, tc := range tests {
		if tc.side != side {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_ADDR": "127.0.0.1:0",
				"SWITCHYARD_ADMIN_TOKENS": "ci:ci-token-0123456789"}
			for k, v := range tc.env {
				env[k] = v
			}
			err := run(context.Background(), []string{"switchyard", "serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want the start-up error containing %q", err, tc.want)
			}
		})
	}
}
