package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/platform/breaker"
	"github.com/switchyardhq/switchyard/platform/metrics"
	"github.com/switchyardhq/switchyard/platform/metrics/metricstest"
)

// TestBreaker: a real breaker's trips are counted through OnTrip, and its state is read
// at each scrape once ReportState is wired.
func TestBreaker(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.NewBreaker(reg, "push-evaluation-projection")
	if err != nil {
		t.Fatal(err)
	}
	tripped := make(chan struct{}, 1)
	b, err := breaker.New[struct{}](breaker.Settings{
		Name: "push-evaluation-projection", TripAfter: 2, Cooldown: time.Hour,
		Counts: func(error) bool { return true },
		OnTrip: func(err error, failures uint32, cooldown time.Duration) {
			m.OnTrip(err, failures, cooldown)
			tripped <- struct{}{}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	name := map[string]string{"breaker": "push-evaluation-projection"}
	if got := metricstest.Gather(t, reg).Labels("switchyard_breaker_state"); len(got) != 0 {
		t.Errorf("state reported before ReportState: %v", got)
	}
	m.ReportState(b.State)
	check := func(when string, trips float64, state string) {
		t.Helper()
		fams := metricstest.Gather(t, reg)
		if got, _ := fams.Sum("switchyard_breaker_trips_total", name); got != trips {
			t.Errorf("%s: trips_total = %v, want %v", when, got, trips)
		}
		for _, s := range []string{"closed", "half-open", "open"} {
			want := 0.0
			if s == state {
				want = 1
			}
			if got, found := fams.Sum("switchyard_breaker_state", map[string]string{"breaker": name["breaker"], "state": s}); !found || got != want {
				t.Errorf("%s: state{state=%q} = %v (found %v), want %v", when, s, got, found, want)
			}
		}
	}
	check("new", 0, "closed")
	fail := func(context.Context) (struct{}, error) { return struct{}{}, errors.New("connection refused") }
	for range 2 {
		_, _ = b.Do(context.Background(), fail)
	}
	select {
	case <-tripped:
	case <-time.After(5 * time.Second):
		t.Fatal("the breaker did not call OnTrip")
	}
	check("after two failures", 1, "open")
}
