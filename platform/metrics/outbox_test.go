package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/platform/metrics"
	"github.com/switchyardhq/switchyard/platform/metrics/metricstest"
	"github.com/switchyardhq/switchyard/platform/outbox"
)

// TestOutboxBacklog: the backlog is read at each scrape; a failed or slow read reports
// backlog_up 0 and leaves the other series out, within the timeout.
func TestOutboxBacklog(t *testing.T) {
	hang := func(ctx context.Context) (outbox.Backlog, error) {
		<-ctx.Done()
		return outbox.Backlog{}, ctx.Err()
	}
	cases := []struct {
		name string
		read func(context.Context) (outbox.Backlog, error)
		up   float64
		want map[string]float64 // nil: the backlog series are absent
	}{
		{"empty", func(context.Context) (outbox.Backlog, error) { return outbox.Backlog{}, nil }, 1,
			map[string]float64{"pending_events": 0, "failing_events": 0, "oldest_pending_age_seconds": 0}},
		{"pending", func(context.Context) (outbox.Backlog, error) {
			return outbox.Backlog{Pending: 3, Failing: 2, OldestPending: 90 * time.Second}, nil
		}, 1, map[string]float64{"pending_events": 3, "failing_events": 2, "oldest_pending_age_seconds": 90}},
		{"read fails", func(context.Context) (outbox.Backlog, error) { return outbox.Backlog{}, errors.New("disk I/O error") }, 0, nil},
		{"read hangs", hang, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			if _, err := metrics.NewOutboxBacklog(reg, "flags", tc.read, 50*time.Millisecond, discard()); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			fams := metricstest.Gather(t, reg)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("scrape took %v with a 50ms backlog timeout", took)
			}
			module := map[string]string{"module": "flags"}
			if up, _ := fams.Sum("switchyard_outbox_backlog_up", module); up != tc.up {
				t.Errorf("backlog_up = %v, want %v", up, tc.up)
			}
			for _, name := range []string{"pending_events", "failing_events", "oldest_pending_age_seconds"} {
				got, found := fams.Sum("switchyard_outbox_"+name, module)
				want, present := tc.want[name]
				if found != present || got != want {
					t.Errorf("switchyard_outbox_%s = %v (present %v), want %v (present %v)", name, got, found, want, present)
				}
			}
		})
	}
}

func TestOutboxBacklogNeedsReadAndLogger(t *testing.T) {
	if _, err := metrics.NewOutboxBacklog(prometheus.NewRegistry(), "flags", nil, 0, discard()); err == nil {
		t.Error("NewOutboxBacklog without a read function: no error")
	}
}
