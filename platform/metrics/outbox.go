package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/platform/outbox"
)

// DefaultBacklogTimeout bounds one backlog read during a scrape.
const DefaultBacklogTimeout = 2 * time.Second

// OutboxBacklog reports an outbox's backlog, read when Prometheus scrapes (never cached):
//
//   - switchyard_outbox_pending_events{module}: undelivered events
//   - switchyard_outbox_failing_events{module}: undelivered events whose last delivery failed
//   - switchyard_outbox_oldest_pending_age_seconds{module}: age of the oldest undelivered event (0 when none)
//   - switchyard_outbox_backlog_up{module}: 1 when the read succeeded, 0 when it failed or
//     timed out (the three series above are then left out, not reported as zero)
//
// A failed read never fails the scrape: the other metrics are still served.
type OutboxBacklog struct {
	read    func(context.Context) (outbox.Backlog, error)
	timeout time.Duration
	logger  *slog.Logger
	module  string

	pending, failing, oldest, up *prometheus.Desc
}

// NewOutboxBacklog registers with reg the backlog of module's outbox, as read returns
// it (outbox.Relay.Backlog, say); a read is given at most timeout (0 takes
// DefaultBacklogTimeout).
func NewOutboxBacklog(reg prometheus.Registerer, module string, read func(context.Context) (outbox.Backlog, error),
	timeout time.Duration, logger *slog.Logger) (*OutboxBacklog, error) {
	if read == nil || logger == nil || module == "" {
		return nil, fmt.Errorf("metrics: outbox backlog of %q needs a read function and a logger", module)
	}
	if timeout <= 0 {
		timeout = DefaultBacklogTimeout
	}
	labels := prometheus.Labels{"module": module}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "outbox", name), help, nil, labels)
	}
	b := &OutboxBacklog{
		read: read, timeout: timeout, logger: logger, module: module,
		pending: desc("pending_events", "Events in the outbox not yet delivered to every consumer."),
		failing: desc("failing_events", "Undelivered outbox events whose last delivery attempt failed."),
		oldest:  desc("oldest_pending_age_seconds", "Age of the oldest undelivered outbox event; 0 when none is pending."),
		up:      desc("backlog_up", "1 if the outbox backlog could be read for this scrape, 0 if the read failed or timed out."),
	}
	if err := reg.Register(b); err != nil {
		return nil, fmt.Errorf("metrics: register outbox backlog of %q: %w", module, err)
	}
	return b, nil
}

// Describe implements prometheus.Collector.
func (b *OutboxBacklog) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.pending
	ch <- b.failing
	ch <- b.oldest
	ch <- b.up
}

// Collect implements prometheus.Collector: it reads the backlog now.
func (b *OutboxBacklog) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	backlog, err := b.read(ctx)
	if err != nil {
		b.logger.Warn("metrics: cannot read the outbox backlog", "module", b.module, "timeout", b.timeout, "err", err)
		ch <- prometheus.MustNewConstMetric(b.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(b.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(b.pending, prometheus.GaugeValue, float64(backlog.Pending))
	ch <- prometheus.MustNewConstMetric(b.failing, prometheus.GaugeValue, float64(backlog.Failing))
	ch <- prometheus.MustNewConstMetric(b.oldest, prometheus.GaugeValue, backlog.OldestPending.Seconds())
}
