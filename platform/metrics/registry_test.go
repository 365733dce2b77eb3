package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/platform/metrics"
	"github.com/switchyardhq/switchyard/platform/metrics/metricstest"
)

// TestRegistryAndHandler: the registry holds the runtime, process and build-info
// collectors, and the handler serves them as the Prometheus text format.
func TestRegistryAndHandler(t *testing.T) {
	info := metrics.BuildInfo{Version: "v1.2.3", Revision: "abc123-dirty", GoVersion: "go1.26.0", Modules: []string{"flags", "evaluation"}}
	reg, err := metrics.NewRegistry(info)
	if err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, metrics.Handler(reg, discard()))
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "process_start_time_seconds"} {
		if _, ok := fams.Sum(name, nil); !ok {
			t.Errorf("no %s; families: %v", name, fams.Names())
		}
	}
	want := map[string]string{"version": "v1.2.3", "revision": "abc123-dirty", "goversion": "go1.26.0", "modules": "flags,evaluation"}
	if v, ok := fams.Sum("switchyard_build_info", want); !ok || v != 1 {
		t.Errorf("switchyard_build_info%v = %v (found %v), want 1; series: %v", want, v, ok, fams.Labels("switchyard_build_info"))
	}
}

// failing is a collector whose every collection fails.
type failing struct{ desc *prometheus.Desc }

func (f failing) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }
func (f failing) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(f.desc, errors.New("backend down"))
}

// TestHandlerContinuesOnError: a collector that fails leaves the scrape a 200 with the
// other series, and promhttp_metric_handler_errors_total counts the failure.
func TestHandlerContinuesOnError(t *testing.T) {
	reg, err := metrics.NewRegistry(metrics.ReadBuildInfo(nil))
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(failing{prometheus.NewDesc("broken", "always fails", nil, nil)})
	fams := scrape(t, metrics.Handler(reg, discard()))
	if _, ok := fams.Sum("switchyard_build_info", nil); !ok {
		t.Errorf("a failing collector hid the other series: %v", fams.Names())
	}
	fams = scrape(t, metrics.Handler(reg, discard()))
	if n, _ := fams.Sum("promhttp_metric_handler_errors_total", map[string]string{"cause": "gathering"}); n < 1 {
		t.Errorf("promhttp_metric_handler_errors_total{cause=gathering} = %v, want >= 1", n)
	}
}

func TestReadBuildInfo(t *testing.T) {
	b := metrics.ReadBuildInfo([]string{"evaluation"})
	if b.GoVersion == "" || !strings.HasPrefix(b.GoVersion, "go") || b.Version == "" {
		t.Errorf("ReadBuildInfo = %+v: want the toolchain's Go version and a main module version", b)
	}
	if len(b.Modules) != 1 || b.Modules[0] != "evaluation" {
		t.Errorf("modules %v, want [evaluation]", b.Modules)
	}
}

// scrape GETs h as Prometheus would and parses the text format.
func scrape(t *testing.T, h http.Handler) metricstest.Families {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	return metricstest.Parse(t, rec.Body)
}
