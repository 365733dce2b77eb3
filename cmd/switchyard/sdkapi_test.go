//go:build !command && !read

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSDKSettings: SWITCHYARD_SDK_TOKENS guards the definitions snapshot, and
// SWITCHYARD_MAX_EVENT_STREAMS bounds the open change streams.
func TestSDKSettings(t *testing.T) {
	t.Run("snapshot open by default", func(t *testing.T) {
		s := startServer(t, t.TempDir(), nil)
		if r := s.do(http.MethodGet, "/sdk/v1/flags.json", "", nil); r.status != http.StatusOK {
			t.Fatalf("GET /sdk/v1/flags.json: %d %s", r.status, r.body)
		}
	})
	t.Run("snapshot behind SDK tokens", func(t *testing.T) {
		s := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_SDK_TOKENS": "checkout:sdk-token-0123456789"})
		cases := map[string]int{"": http.StatusUnauthorized, "Bearer wrong-token-0123456789": http.StatusUnauthorized,
			"Bearer sdk-token-0123456789": http.StatusOK}
		for auth, want := range cases {
			headers := map[string]string{"Authorization": auth}
			if r := s.do(http.MethodGet, "/sdk/v1/flags.json", "", headers); r.status != want {
				t.Errorf("Authorization %q: %d, want %d (%s)", auth, r.status, want, r.body)
			}
		}
	})
	t.Run("stream limit", func(t *testing.T) {
		s := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_MAX_EVENT_STREAMS": "1"})
		open := func() *http.Response {
			req, _ := http.NewRequest(http.MethodGet, s.base+"/ofrep/v1/events", nil)
			req.Header.Set("Accept", "text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = resp.Body.Close() })
			return resp
		}
		if first := open(); first.StatusCode != http.StatusOK {
			t.Fatalf("first stream: %d", first.StatusCode)
		}
		if second := open(); second.StatusCode != http.StatusServiceUnavailable || second.Header.Get("Retry-After") == "" {
			t.Fatalf("second stream with SWITCHYARD_MAX_EVENT_STREAMS=1: %d, want 503 with Retry-After", second.StatusCode)
		}
	})
	for value, want := range map[string]string{
		"SWITCHYARD_SDK_TOKENS=checkout":         "SWITCHYARD_SDK_TOKENS entry 1 is not name:token",
		"SWITCHYARD_SDK_TOKENS=checkout:short":   "SWITCHYARD_SDK_TOKENS entry 1 (checkout): token must be at least 16",
		"SWITCHYARD_MAX_EVENT_STREAMS=0":         `SWITCHYARD_MAX_EVENT_STREAMS "0" is invalid`,
		"SWITCHYARD_MAX_EVENT_STREAMS=unlimited": `SWITCHYARD_MAX_EVENT_STREAMS "unlimited" is invalid`,
	} {
		k, v, _ := strings.Cut(value, "=")
		env := map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_ADDR": "127.0.0.1:0", k: v}
		err := run(context.Background(), []string{"switchyard", "serve"}, func(name string) string { return env[name] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", value, err, want)
		}
	}
}
