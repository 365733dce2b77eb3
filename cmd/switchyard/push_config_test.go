package main

import (
	"strings"
	"testing"
	"time"
)

func TestPushConfigDefaultsAndValidation(t *testing.T) {
	const url, token = "http://switchyard-read:8080", "push-token-0123456789"
	tests := []struct {
		name string
		bus  string
		env  map[string]string
		want string // "" = valid
	}{
		{"nothing set", busSync, nil, ""},
		{"command side", busSync, map[string]string{"SWITCHYARD_PUSH_URL": url, "SWITCHYARD_PUSH_TOKEN": token}, ""},
		{"read side", busSync, map[string]string{"SWITCHYARD_PUSH_TOKENS": "command:" + token}, ""},
		{"url not http", busSync, map[string]string{"SWITCHYARD_PUSH_URL": "nats://read:4222", "SWITCHYARD_PUSH_TOKEN": token}, "must be the read service's http(s) base URL"},
		{"url without host", busSync, map[string]string{"SWITCHYARD_PUSH_URL": "http://", "SWITCHYARD_PUSH_TOKEN": token}, "must be the read service's http(s) base URL"},
		{"url with async", busAsync, map[string]string{"SWITCHYARD_PUSH_URL": url, "SWITCHYARD_PUSH_TOKEN": token}, "SWITCHYARD_PUSH_URL needs SWITCHYARD_BUS=sync"},
		{"url without token", busSync, map[string]string{"SWITCHYARD_PUSH_URL": url}, "SWITCHYARD_PUSH_TOKEN must be set"},
		{"short token", busSync, map[string]string{"SWITCHYARD_PUSH_URL": url, "SWITCHYARD_PUSH_TOKEN": "short"}, "at least 16 characters"},
		{"token without url", busSync, map[string]string{"SWITCHYARD_PUSH_TOKEN": token}, "SWITCHYARD_PUSH_URL is not"},
		{"tokens with async", busAsync, map[string]string{"SWITCHYARD_PUSH_TOKENS": "command:" + token}, "SWITCHYARD_PUSH_TOKENS needs SWITCHYARD_BUS=sync"},
		{"bad tokens", busSync, map[string]string{"SWITCHYARD_PUSH_TOKENS": "command"}, "SWITCHYARD_PUSH_TOKENS entry 1 is not name:token"},
		{"timeout not a duration", busSync, map[string]string{"SWITCHYARD_PUSH_TIMEOUT": "fast"}, `SWITCHYARD_PUSH_TIMEOUT "fast" is invalid`},
		{"timeout zero", busSync, map[string]string{"SWITCHYARD_PUSH_TIMEOUT": "0s"}, "SWITCHYARD_PUSH_TIMEOUT"},
		{"timeout too long", busSync, map[string]string{"SWITCHYARD_PUSH_TIMEOUT": "45s"}, "use at most 30s"},
		{"trip after zero", busSync, map[string]string{"SWITCHYARD_PUSH_TRIP_AFTER": "0"}, "SWITCHYARD_PUSH_TRIP_AFTER"},
		{"trip after word", busSync, map[string]string{"SWITCHYARD_PUSH_TRIP_AFTER": "four"}, "SWITCHYARD_PUSH_TRIP_AFTER"},
		{"cooldown negative", busSync, map[string]string{"SWITCHYARD_PUSH_COOLDOWN": "-1s"}, "SWITCHYARD_PUSH_COOLDOWN"},
		{"max below cooldown", busSync, map[string]string{"SWITCHYARD_PUSH_COOLDOWN": "30s", "SWITCHYARD_PUSH_MAX_COOLDOWN": "10s"}, "is below SWITCHYARD_PUSH_COOLDOWN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadPushConfig(func(k string) string { return tc.env[k] }, tc.bus)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("loadPushConfig: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
		})
	}
	p, err := loadPushConfig(func(string) string { return "" }, busSync)
	if err != nil || p.Timeout != 2*time.Second || p.TripAfter != 4 || p.Cooldown != 15*time.Second || p.MaxCooldown != time.Minute {
		t.Fatalf("defaults = %+v (%v), want timeout 2s, trip after 4, cooldown 15s up to 60s", p, err)
	}
	p, err = loadPushConfig(func(k string) string {
		return map[string]string{"SWITCHYARD_PUSH_TIMEOUT": "300ms", "SWITCHYARD_PUSH_TRIP_AFTER": "2",
			"SWITCHYARD_PUSH_COOLDOWN": "1s", "SWITCHYARD_PUSH_MAX_COOLDOWN": "4s"}[k]
	}, busSync)
	if err != nil || p.Timeout != 300*time.Millisecond || p.TripAfter != 2 || p.Cooldown != time.Second || p.MaxCooldown != 4*time.Second {
		t.Fatalf("settings = %+v (%v), want what the variables say", p, err)
	}
}
