package metrics

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/platform/breaker"
)

// Breaker reports a circuit breaker (platform/breaker):
//
//   - switchyard_breaker_state{breaker,state}: 1 for the state the breaker is in now
//     (closed, half-open or open), 0 for the others; read on each scrape from the state
//     function given to ReportState
//   - switchyard_breaker_trips_total{breaker}: times it opened, counted by OnTrip
//
// Wire OnTrip as (or into) the breaker's Settings.OnTrip, and, once the breaker exists,
// its State method into ReportState.
type Breaker struct {
	trips prometheus.Counter
	desc  *prometheus.Desc
	state atomic.Pointer[func() breaker.State]
}

// breakerStates are the values of the state label, in breaker.State order.
var breakerStates = []breaker.State{breaker.Closed, breaker.HalfOpen, breaker.Open}

// NewBreaker registers with reg the metrics of the breaker called name.
func NewBreaker(reg prometheus.Registerer, name string) (*Breaker, error) {
	b := &Breaker{
		trips: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "breaker", Name: "trips_total",
			Help:        "Times the circuit breaker opened after consecutive failures.",
			ConstLabels: prometheus.Labels{"breaker": name},
		}),
		desc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "breaker", "state"),
			"1 for the state the circuit breaker is in (closed, half-open, open), 0 for the others.",
			[]string{"state"}, prometheus.Labels{"breaker": name}),
	}
	for _, c := range []prometheus.Collector{b.trips, b} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register breaker %q: %w", name, err)
		}
	}
	return b, nil
}

// OnTrip counts a trip; its signature is breaker.Settings.OnTrip's.
func (b *Breaker) OnTrip(error, uint32, time.Duration) { b.trips.Inc() }

// ReportState makes scrapes report state(): the breaker's State method.
func (b *Breaker) ReportState(state func() breaker.State) { b.state.Store(&state) }

// Describe implements prometheus.Collector (the state gauge; trips is its own collector).
func (b *Breaker) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect implements prometheus.Collector: nothing until ReportState is called.
func (b *Breaker) Collect(ch chan<- prometheus.Metric) {
	state := b.state.Load()
	if state == nil {
		return
	}
	now := (*state)()
	for _, s := range breakerStates {
		v := 0.0
		if s == now {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, v, s.String())
	}
}
