//go:build !command && !read

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/metrics"
	"github.com/switchyardhq/switchyard/platform/metrics/metricstest"
)

// scrape GETs /metrics (with a bearer token unless token is "") and parses it.
func (s *server) scrape(token string) metricstest.Families {
	s.t.Helper()
	headers := map[string]string{"Accept": "text/plain"}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	r := s.do(http.MethodGet, "/metrics", "", headers)
	if r.status != http.StatusOK {
		s.t.Fatalf("GET /metrics: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		s.t.Fatalf("GET /metrics: Content-Type %q, want the Prometheus text format", ct)
	}
	return metricstest.Parse(s.t, bytes.NewReader(r.body))
}

// TestMetrics: after a write, some evaluations and with a change stream open, GET
// /metrics serves the series an operator watches, with the values this traffic made.
func TestMetrics(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	if r := s.do(http.MethodPut, "/api/v1/environments/development/flags/new-banner", newBanner,
		map[string]string{"X-Change-Reason": "launch"}); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for range 3 {
		if r := s.evaluate("new-banner"); r.status != http.StatusOK {
			t.Fatalf("evaluate: %d %s", r.status, r.body)
		}
	}
	if r := s.evaluate("no-such-flag"); r.status != http.StatusNotFound {
		t.Fatalf("evaluate unknown flag: %d %s", r.status, r.body)
	}
	if r := s.do(http.MethodPost, "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"user-1"}}`, nil); r.status != http.StatusOK {
		t.Fatalf("bulk evaluate: %d %s", r.status, r.body)
	}
	if r := s.do(http.MethodGet, "/wp-login.php", "", nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown URL: %d", r.status)
	}
	// Answered by the body limit, before any handler: counted all the same.
	if r := s.do(http.MethodPut, "/api/v1/environments/development/flags/big", strings.Repeat(" ", httpx.MaxBodyBytes+1), nil); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized write: %d %s", r.status, r.body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/ofrep/v1/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if stream.StatusCode != http.StatusOK {
		t.Fatalf("open change stream: %d", stream.StatusCode)
	}

	fams := s.scrape("")
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"switchyard_build_info", map[string]string{"modules": "flags,evaluation,audit"}, 1},
		{"switchyard_http_requests_total", map[string]string{"method": "PUT", "route": "/api/v1/environments/:env/flags/:key", "code": "201"}, 1},
		{"switchyard_http_requests_total", map[string]string{"method": "POST", "route": "/ofrep/v1/evaluate/flags/:key", "code": "200"}, 3},
		{"switchyard_http_requests_total", map[string]string{"method": "POST", "route": "/ofrep/v1/evaluate/flags/:key", "code": "404"}, 1},
		{"switchyard_http_requests_total", map[string]string{"method": "POST", "route": "/ofrep/v1/evaluate/flags", "code": "200"}, 1},
		{"switchyard_http_requests_total", map[string]string{"method": "GET", "route": metrics.UnmatchedRoute, "code": "404"}, 1},
		{"switchyard_http_requests_total", map[string]string{"method": "PUT", "route": "/api/v1/environments/:env/flags/:key", "code": "413"}, 1},
		{"switchyard_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/ofrep/v1/evaluate/flags/:key", "status_class": "2xx"}, 3},
		// in flight: the change stream and this scrape
		{"switchyard_http_requests_in_flight", nil, 2},
		// 3 single + 1 in the bulk evaluation
		{"switchyard_ofrep_evaluations_total", map[string]string{"reason": "STATIC", "error_code": ""}, 4},
		{"switchyard_ofrep_evaluations_total", map[string]string{"reason": "ERROR", "error_code": "FLAG_NOT_FOUND"}, 1},
		{"switchyard_ofrep_evaluations_total", map[string]string{"reason": "DISABLED", "error_code": ""}, 0},
		{"switchyard_ofrep_event_streams_open", nil, 1},
		{"switchyard_evaluation_snapshot_revision", map[string]string{"environment": "development"}, 1},
		{"switchyard_outbox_backlog_up", map[string]string{"module": "flags"}, 1},
		{"switchyard_outbox_pending_events", map[string]string{"module": "flags"}, 0},
		{"switchyard_outbox_failing_events", map[string]string{"module": "flags"}, 0},
		{"switchyard_outbox_oldest_pending_age_seconds", map[string]string{"module": "flags"}, 0},
	}
	for _, c := range checks {
		got, found := fams.Sum(c.name, c.labels)
		if !found || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v; series: %v", c.name, c.labels, got, found, c.want, fams.Labels(c.name))
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, found := fams.Sum(name, nil); !found {
			t.Errorf("no %s", name)
		}
	}
	if _, found := fams.Sum("switchyard_breaker_state", nil); found {
		t.Error("the monolith has no push, yet reports a breaker")
	}
	for _, labels := range fams.Labels("switchyard_http_requests_total") {
		if strings.Contains(labels["route"], "new-banner") || strings.Contains(labels["route"], "no-such-flag") || strings.Contains(labels["route"], "wp-login") {
			t.Errorf("a raw URL became a route label: %v", labels)
		}
	}

	// The stream closes: the gauge follows, and the scrape itself was counted.
	cancel()
	s.eventually("the stream gauge to drop", func() bool {
		open, _ := s.scrape("").Sum("switchyard_ofrep_event_streams_open", nil)
		return open == 0
	})
	if n, _ := s.scrape("").Sum("switchyard_http_requests_total", map[string]string{"method": "GET", "route": "/metrics", "code": "200"}); n < 2 {
		t.Errorf("scrapes counted under route /metrics: %v, want at least 2", n)
	}
}

// TestMetricsTokens: SWITCHYARD_METRICS_TOKENS puts /metrics behind bearer tokens (which
// open nothing else); unset, /metrics is open like /healthz; bad values stop the start.
func TestMetricsTokens(t *testing.T) {
	t.Run("open by default", func(t *testing.T) {
		s := startServer(t, t.TempDir(), nil)
		if r := s.do(http.MethodGet, "/metrics", "", nil); r.status != http.StatusOK {
			t.Fatalf("GET /metrics without tokens configured: %d %s", r.status, r.body)
		}
	})
	t.Run("behind tokens", func(t *testing.T) {
		const scraper = "scraper-token-0123456789"
		s := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_METRICS_TOKENS": "prometheus:" + scraper})
		cases := map[string]int{"": http.StatusUnauthorized, "Bearer wrong-token-0123456789": http.StatusUnauthorized,
			"Bearer " + s.token: http.StatusUnauthorized, "Bearer " + scraper: http.StatusOK}
		for auth, want := range cases {
			if r := s.do(http.MethodGet, "/metrics", "", map[string]string{"Authorization": auth}); r.status != want {
				t.Errorf("GET /metrics with Authorization %q: %d, want %d (%s)", auth, r.status, want, r.body)
			}
		}
		if r := s.do(http.MethodGet, "/api/v1/audit", "", map[string]string{"Authorization": "Bearer " + scraper}); r.status != http.StatusUnauthorized {
			t.Errorf("the scraper's token opened the admin API: %d", r.status)
		}
		if _, found := s.scrape(scraper).Sum("switchyard_build_info", nil); !found {
			t.Error("no switchyard_build_info with the scraper's token")
		}
	})
	for value, want := range map[string]string{
		"SWITCHYARD_METRICS_TOKENS=prometheus":                         "SWITCHYARD_METRICS_TOKENS entry 1 is not name:token",
		"SWITCHYARD_METRICS_TOKENS=prometheus:short":                   "SWITCHYARD_METRICS_TOKENS entry 1 (prometheus): token must be at least 16",
		"SWITCHYARD_METRICS_TOKENS=a:scraper-token-0123456789,b:x":     "SWITCHYARD_METRICS_TOKENS entry 2 (b): token must be at least 16",
		"SWITCHYARD_METRICS_TOKENS=prometheus:alice-secret-token-0001": `SWITCHYARD_METRICS_TOKENS entry 1 (prometheus) reuses the secret of SWITCHYARD_ADMIN_TOKENS's "alice"`,
	} {
		k, v, _ := strings.Cut(value, "=")
		env := map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_ADDR": "127.0.0.1:0", "SWITCHYARD_ADMIN_TOKENS": testToken, k: v}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a start that is not refused stops here
		err := run(ctx, []string{"switchyard", "serve"}, func(name string) string { return env[name] }, io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", value, err, want)
		}
	}
}
