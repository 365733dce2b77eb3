package metrics_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/metrics"
	"github.com/switchyardhq/switchyard/platform/metrics/metricstest"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// instrumented is a server as switchyard builds it (httpx.NewEcho) with the request
// metrics installed as serve installs them (Pre).
func instrumented(t *testing.T) (*echo.Echo, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	h, err := metrics.NewHTTP(reg)
	if err != nil {
		t.Fatal(err)
	}
	e := httpx.NewEcho(discard())
	e.Pre(h.Middleware())
	g := e.Group("")
	g.GET("/api/v1/flags/:key", func(c echo.Context) error {
		if c.Param("key") == "missing" {
			return echo.NewHTTPError(http.StatusNotFound, "no such flag")
		}
		return c.String(http.StatusOK, "ok")
	})
	g.POST("/api/v1/flags", func(c echo.Context) error {
		_, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusCreated)
	})
	g.GET("/boom", func(echo.Context) error { panic("boom") })
	g.GET("/fail", func(echo.Context) error { return errors.New("database unreachable") })
	return e, reg
}

func send(e *echo.Echo, method, path, body string) int {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Code
}

// TestHTTPMiddleware: each request is counted once under its route template, method and
// the status the client got, whoever answered it (handler, error handler, router,
// body limit, panic recovery).
func TestHTTPMiddleware(t *testing.T) {
	big := strings.Repeat("x", httpx.MaxBodyBytes+1)
	cases := []struct {
		name, method, path, body string
		status                   int
		route, code, class       string
	}{
		{"template, not the raw path", http.MethodGet, "/api/v1/flags/new-banner", "", 200, "/api/v1/flags/:key", "200", "2xx"},
		{"trailing slash removed first", http.MethodGet, "/api/v1/flags/new-banner/", "", 200, "/api/v1/flags/:key", "200", "2xx"},
		{"handler error written by the error handler", http.MethodGet, "/api/v1/flags/missing", "", 404, "/api/v1/flags/:key", "404", "4xx"},
		{"internal error", http.MethodGet, "/fail", "", 500, "/fail", "500", "5xx"},
		{"recovered panic", http.MethodGet, "/boom", "", 500, "/boom", "500", "5xx"},
		{"created", http.MethodPost, "/api/v1/flags", "{}", 201, "/api/v1/flags", "201", "2xx"},
		{"body too large", http.MethodPost, "/api/v1/flags", big, 413, "/api/v1/flags", "413", "4xx"},
		{"wrong method keeps the template", http.MethodDelete, "/api/v1/flags", "", 405, "/api/v1/flags", "405", "4xx"},
		{"unknown URL", http.MethodGet, "/wp-admin/setup.php", "", 404, metrics.UnmatchedRoute, "404", "4xx"},
		{"unknown URL sharing a prefix with routes", http.MethodGet, "/api/v1/other", "", 404, metrics.UnmatchedRoute, "404", "4xx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, reg := instrumented(t)
			if got := send(e, tc.method, tc.path, tc.body); got != tc.status {
				t.Fatalf("%s %s: status %d, want %d", tc.method, tc.path, got, tc.status)
			}
			fams := metricstest.Gather(t, reg)
			want := map[string]string{"method": tc.method, "route": tc.route, "code": tc.code}
			if n, _ := fams.Sum("switchyard_http_requests_total", want); n != 1 {
				t.Errorf("requests_total%v = %v, want 1; series: %v", want, n, fams.Labels("switchyard_http_requests_total"))
			}
			if n, _ := fams.Sum("switchyard_http_requests_total", nil); n != 1 {
				t.Errorf("%v requests counted in all, want 1", n)
			}
			hist := map[string]string{"method": tc.method, "route": tc.route, "status_class": tc.class}
			if n, _ := fams.Sum("switchyard_http_request_duration_seconds", hist); n != 1 {
				t.Errorf("request_duration_seconds%v has %v samples, want 1; series: %v", hist, n,
					fams.Labels("switchyard_http_request_duration_seconds"))
			}
			if n, _ := fams.Sum("switchyard_http_requests_in_flight", nil); n != 0 {
				t.Errorf("requests_in_flight = %v after the request, want 0", n)
			}
		})
	}
}

// TestHTTPBoundedLabels: random URLs and methods make no new series.
func TestHTTPBoundedLabels(t *testing.T) {
	e, reg := instrumented(t)
	for i := range 50 {
		send(e, http.MethodGet, "/api/v1/flags/flag-"+strings.Repeat("x", i), "")
		send(e, http.MethodGet, "/scan/"+strings.Repeat("y", i), "")
		send(e, "BREW", "/api/v1/flags/k", "")
	}
	fams := metricstest.Gather(t, reg)
	series := fams.Labels("switchyard_http_requests_total")
	if len(series) != 3 {
		t.Fatalf("150 requests over 101 URLs made %d series, want 3 (template, unmatched, OTHER method): %v", len(series), series)
	}
	for labels, want := range map[[3]string]float64{
		{"GET", "/api/v1/flags/:key", "200"}:   50,
		{"GET", metrics.UnmatchedRoute, "404"}: 50,
		{"OTHER", "/api/v1/flags/:key", "405"}: 50,
	} {
		got, _ := fams.Sum("switchyard_http_requests_total", map[string]string{"method": labels[0], "route": labels[1], "code": labels[2]})
		if got != want {
			t.Errorf("requests_total%v = %v, want %v", labels, got, want)
		}
	}
}

// TestHTTPInFlight: a request is in flight while its handler runs.
func TestHTTPInFlight(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := metrics.NewHTTP(reg)
	if err != nil {
		t.Fatal(err)
	}
	e := httpx.NewEcho(discard())
	e.Pre(h.Middleware())
	var during float64
	e.GET("/stream", func(c echo.Context) error {
		during, _ = metricstest.Gather(t, reg).Sum("switchyard_http_requests_in_flight", nil)
		return c.NoContent(http.StatusNoContent)
	})
	send(e, http.MethodGet, "/stream", "")
	after, _ := metricstest.Gather(t, reg).Sum("switchyard_http_requests_in_flight", nil)
	if during != 1 || after != 0 {
		t.Errorf("in flight: %v during the request and %v after, want 1 and 0", during, after)
	}
}

func TestNewHTTPTwiceOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := metrics.NewHTTP(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.NewHTTP(reg); err == nil || !strings.Contains(err.Error(), "register HTTP metrics") {
		t.Errorf("second NewHTTP on one registry: %v, want a registration error", err)
	}
}
