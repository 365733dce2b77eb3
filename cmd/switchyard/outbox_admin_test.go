//go:build !command && !read

package main

import (
	"net/http"
	"testing"
)

// TestOutboxBacklogIsReadableByAnAdmin reads the flags outbox's backlog from a running
// server: empty once a write was delivered, and only with the admin token.
func TestOutboxBacklogIsReadableByAnAdmin(t *testing.T) {
	for _, mode := range []string{busSync, busAsync} {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_BUS": mode})
			created := s.do(http.MethodPut, "/api/v1/environments/development/flags/new-banner", newBanner,
				map[string]string{"X-Change-Reason": "launch the banner"})
			if created.status != http.StatusCreated {
				t.Fatalf("create: %d %s", created.status, created.body)
			}
			var backlog map[string]any
			s.eventually("outbox drained", func() bool {
				resp := s.do(http.MethodGet, "/api/v1/admin/outbox", "", nil)
				if resp.status != http.StatusOK {
					t.Fatalf("GET /api/v1/admin/outbox: %d %s", resp.status, resp.body)
				}
				backlog = resp.json(t)
				return backlog["pending"] == 0.0
			})
			if backlog["failing"] != 0.0 || backlog["oldestAgeMs"] != 0.0 {
				t.Fatalf("backlog %v", backlog)
			}
			failing := s.do(http.MethodGet, "/api/v1/admin/outbox/failing?limit=10", "", nil)
			if entries, ok := failing.json(t)["entries"].([]any); failing.status != http.StatusOK || !ok || len(entries) != 0 {
				t.Fatalf("failing: %d %s", failing.status, failing.body)
			}
			if resp := s.do(http.MethodGet, "/api/v1/admin/outbox", "", map[string]string{"Authorization": ""}); resp.status != http.StatusUnauthorized {
				t.Fatalf("without a token: %d %s", resp.status, resp.body)
			}
			if resp := s.do(http.MethodPost, "/api/v1/admin/outbox/no-such-event/resubmit", "", nil); resp.status != http.StatusNotFound {
				t.Fatalf("resubmit unknown: %d %s", resp.status, resp.body)
			}
		})
	}
}
