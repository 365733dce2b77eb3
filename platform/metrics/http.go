package metrics

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// UnmatchedRoute is the route label of a request for a URL that matches no route: one
// series for every unknown URL, however many there are.
const UnmatchedRoute = "unmatched"

// durationBuckets suit a service whose evaluations take well under a millisecond and
// whose writes take a few: from 0.25 ms to 10 s.
var durationBuckets = []float64{.00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// HTTP records request metrics for an echo server:
//
//   - switchyard_http_requests_total{method,route,code}
//   - switchyard_http_request_duration_seconds{method,route,status_class} (histogram)
//   - switchyard_http_requests_in_flight
//
// route is the template the request matched (c.Path(), e.g. /api/v1/flags/:key), never
// the raw URL, or UnmatchedRoute; method is one of the standard methods or OTHER; code
// the status code sent; status_class its class (2xx...5xx). Long-lived requests (SSE
// change streams) are counted when they end, and are in flight until then.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	series   sync.Map // seriesKey -> *requestSeries
}

type seriesKey struct {
	method, route string
	code          int
}

// requestSeries caches one label combination's children: the label lookup (a hash of
// three strings and a lock) happens once per combination, not once per request.
type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// NewHTTP registers the request metrics with reg.
func NewHTTP(reg prometheus.Registerer) (*HTTP, error) {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route template and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from receiving an HTTP request to finishing its response, by method, route template and status class.",
			Buckets: durationBuckets,
		}, []string{"method", "route", "status_class"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served now, open change streams included.",
		}),
	}
	for _, c := range []prometheus.Collector{h.requests, h.duration, h.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register HTTP metrics: %w", err)
		}
	}
	return h, nil
}

// Middleware measures every request. Register it with echo's Pre, so that it also sees
// what the router and the other middleware answer themselves (404, 405, 413, recovered
// panics); it reads the route template once the router has run. A handler's error is
// handed to echo's error handler here (c.Error), so that the status it writes is the
// one recorded; the error is then handled, and nil is returned.
func (h *HTTP) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			h.inFlight.Inc()
			defer h.inFlight.Dec()
			if err := next(c); err != nil {
				c.Error(err)
			}
			s := h.seriesFor(method(c.Request().Method), route(c), c.Response().Status)
			s.count.Inc()
			s.duration.Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

func (h *HTTP) seriesFor(method, route string, code int) *requestSeries {
	key := seriesKey{method: method, route: route, code: code}
	if s, ok := h.series.Load(key); ok {
		return s.(*requestSeries)
	}
	s := &requestSeries{
		count:    h.requests.WithLabelValues(method, route, strconv.Itoa(code)),
		duration: h.duration.WithLabelValues(method, route, statusClass(code)),
	}
	actual, _ := h.series.LoadOrStore(key, s)
	return actual.(*requestSeries)
}

// route is the template of the route c matched, or UnmatchedRoute: echo leaves the
// path empty when no route matches the URL. A 405 keeps its template: the route exists,
// the method does not.
func route(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return UnmatchedRoute
}

func statusClass(code int) string {
	if code >= 100 && code < 600 {
		return strconv.Itoa(code/100) + "xx"
	}
	return "other"
}

// method bounds the method label to the standard methods.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
