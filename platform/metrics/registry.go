package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// BuildInfo labels the switchyard_build_info series.
type BuildInfo struct {
	Version   string   // the main module's version ("(devel)" for a local build)
	Revision  string   // the VCS revision, "-dirty" appended for a modified tree; "" when unknown
	GoVersion string   // the toolchain that built the binary
	Modules   []string // the modules this binary links (flags, evaluation, audit)
}

// ReadBuildInfo fills Version, Revision and GoVersion from what the Go toolchain stamped
// into the binary; modules are the modules the binary links.
func ReadBuildInfo(modules []string) BuildInfo {
	b := BuildInfo{Version: "unknown", Modules: modules}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Version, b.GoVersion = info.Main.Version, info.GoVersion
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if b.Revision != "" && dirty {
		b.Revision += "-dirty"
	}
	return b
}

// NewRegistry returns a registry holding the Go runtime and process collectors and
// switchyard_build_info (always 1, labelled with info).
func NewRegistry(info BuildInfo) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1; the labels describe the running binary: version, VCS revision, Go version and the modules it links.",
		ConstLabels: prometheus.Labels{
			"version": info.Version, "revision": info.Revision, "goversion": info.GoVersion,
			"modules": strings.Join(info.Modules, ","),
		},
	})
	build.Set(1)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register runtime collectors: %w", err)
		}
	}
	return reg, nil
}

// Handler serves reg's metrics in the Prometheus exposition format (text, or what the
// scraper negotiates). A collector that fails does not fail the scrape: the other series
// are served, the failure is logged, and promhttp_metric_handler_errors_total counts it.
func Handler(reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrintln{logger},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
	})
}

// slogPrintln adapts a slog.Logger to promhttp's Logger.
type slogPrintln struct{ logger *slog.Logger }

func (l slogPrintln) Println(v ...any) {
	l.logger.Warn("serve metrics", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}
