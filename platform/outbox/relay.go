package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/platform/bus"
)

// RelayOptions tune the relay. Zero values take the defaults.
type RelayOptions struct {
	// Poll is how often the relay looks for due rows when nobody notified it (default 1 s).
	Poll time.Duration
	// Lease is how long a claimed row is left alone by other relays (default 30 s).
	Lease time.Duration
	// Hold is how long a row enqueued for inline delivery is left alone (default 5 s):
	// long enough for the request that committed it to deliver it, short enough that a
	// crash between commit and delivery is repaired quickly.
	Hold time.Duration
	// MaxBackoff caps the wait between attempts of a failing row (default 5 min).
	MaxBackoff time.Duration
	// Batch is how many due rows one pass reads (default 100).
	Batch int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// BacklogLogEvery is how often Run logs the backlog while anything is pending
	// (default 30 s); nothing is logged while the outbox is empty.
	BacklogLogEvery time.Duration
	// BacklogWarnAge turns the backlog log line into a warning once the oldest pending
	// row is older than this (default 1 min).
	BacklogWarnAge time.Duration
	// Retention is how long a delivered row is kept (default 7 days) before Run prunes
	// it, every PruneEvery (default 1 h); undelivered rows are never pruned.
	Retention  time.Duration
	PruneEvery time.Duration
}

// DefaultRetention is how long delivered outbox rows are kept by default: long enough to
// inspect what was delivered recently, short enough that the table does not grow forever.
const DefaultRetention = 7 * 24 * time.Hour

func (o RelayOptions) withDefaults() RelayOptions {
	if o.Poll == 0 {
		o.Poll = time.Second
	}
	if o.Lease == 0 {
		o.Lease = 30 * time.Second
	}
	if o.Hold == 0 {
		o.Hold = 5 * time.Second
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.Batch == 0 {
		o.Batch = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BacklogLogEvery == 0 {
		o.BacklogLogEvery = 30 * time.Second
	}
	if o.BacklogWarnAge == 0 {
		o.BacklogWarnAge = time.Minute
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.PruneEvery == 0 {
		o.PruneEvery = time.Hour
	}
	return o
}

// MetadataEventType is the message metadata key that carries an event's type, so that a
// consumer can route without decoding the payload.
const MetadataEventType = "event_type"

// NewMessage is an event as the relay hands it to the bus: the event id is the message
// UUID (consumers deduplicate on it) and the event type is in the metadata.
func NewMessage(eventID, eventType string, payload []byte) *message.Message {
	msg := message.NewMessage(eventID, payload)
	msg.Metadata.Set(MetadataEventType, eventType)
	return msg
}

// Relay delivers a module's outbox rows to the bus.
type Relay struct {
	db     *sqlx.DB
	bus    bus.Deliverer
	logger *slog.Logger
	opts   RelayOptions
	wake   chan struct{}
}

// NewRelay returns a relay over the outbox table in db.
func NewRelay(db *sqlx.DB, deliverer bus.Deliverer, logger *slog.Logger, opts RelayOptions) *Relay {
	if db == nil || deliverer == nil || logger == nil {
		panic("outbox.NewRelay: nil dependency")
	}
	return &Relay{db: db, bus: deliverer, logger: logger.With("component", "outbox-relay"), opts: opts.withDefaults(), wake: make(chan struct{}, 1)}
}

// Hold is how long a freshly enqueued row is held for a caller that delivers it inline.
func (r *Relay) Hold() time.Duration { return r.opts.Hold }

// Notify wakes the relay: a row was committed.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// DeliverNow delivers one row the caller enqueued with a hold (sync mode). On failure the
// row is scheduled for a retry by the relay and the error says which handlers failed.
func (r *Relay) DeliverNow(ctx context.Context, eventID string) error {
	row, err := byEventID(ctx, r.db, eventID)
	if errors.Is(err, errAlreadyDelivered) {
		return nil
	}
	if err != nil {
		return err
	}
	return r.deliver(ctx, row)
}

// Run delivers due rows until ctx is done, then returns nil.
func (r *Relay) Run(ctx context.Context) error {
	ticker := time.NewTicker(r.opts.Poll)
	defer ticker.Stop()
	report := time.NewTicker(r.opts.BacklogLogEvery)
	defer report.Stop()
	prune := time.NewTicker(r.opts.PruneEvery)
	defer prune.Stop()
	var backlogShown bool
	for {
		if _, err := r.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			r.logger.ErrorContext(ctx, "outbox pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-r.wake:
		case <-report.C:
			backlogShown = r.logBacklog(ctx, backlogShown)
		case <-prune.C:
			if _, err := r.Prune(ctx); err != nil && ctx.Err() == nil {
				r.logger.WarnContext(ctx, "outbox prune failed; will try again", "err", err)
			}
		}
	}
}

// DeliverDue delivers every row that is due now, oldest first, and returns how many it
// delivered. A row that fails is rescheduled with backoff; the pass goes on.
func (r *Relay) DeliverDue(ctx context.Context) (int, error) {
	delivered := 0
	for {
		rows, err := due(ctx, r.db, r.opts.Now(), r.opts.Batch)
		if err != nil {
			return delivered, err
		}
		progressed := false
		for _, row := range rows {
			if ctx.Err() != nil {
				return delivered, nil
			}
			ok, err := claim(ctx, r.db, row, r.opts.Now().Add(r.opts.Lease))
			if err != nil {
				return delivered, err
			}
			if !ok {
				continue
			}
			progressed = true
			if err := r.deliver(ctx, row); err == nil {
				delivered++
			}
		}
		if len(rows) < r.opts.Batch || !progressed {
			return delivered, nil
		}
	}
}

func (r *Relay) deliver(ctx context.Context, row row) error {
	msg := NewMessage(row.EventID, row.EventType, []byte(row.Payload))
	// A client that hangs up must not cut a delivery short halfway through its handlers.
	dctx := context.WithoutCancel(ctx)
	msg.SetContext(dctx)
	deliverErr := r.bus.Deliver(dctx, row.Topic, msg)
	now := r.opts.Now()
	if deliverErr == nil {
		if err := markDelivered(dctx, r.db, row.ID, now); err != nil {
			// The consumers have it; the row will be redelivered and deduplicated.
			return err
		}
		return nil
	}
	next := now.Add(r.backoff(row.Attempts + 1))
	if wait, ok := retryAfter(deliverErr); ok {
		// A consumer behind an open circuit breaker says when it will try again; coming
		// back later than that would only delay the event once the consumer is back.
		if sooner := now.Add(max(wait, minRetryAfter)); sooner.Before(next) {
			next = sooner
		}
	}
	r.logger.WarnContext(ctx, "outbox delivery failed; will retry",
		"event_id", row.EventID, "event_type", row.EventType, "attempt", row.Attempts+1,
		"retry_at", next, "failed_handlers", bus.FailedHandlers(deliverErr), "err", deliverErr)
	if err := markFailed(dctx, r.db, row.ID, next, deliverErr); err != nil {
		return errors.Join(deliverErr, err)
	}
	return fmt.Errorf("deliver event %s: %w", row.EventID, deliverErr)
}

// minRetryAfter keeps a consumer that asks to be retried "now" from being hammered.
const minRetryAfter = 100 * time.Millisecond

// retryAfter finds, in a delivery error, a consumer's own word on when to retry.
func retryAfter(err error) (time.Duration, bool) {
	ra, ok := errors.AsType[interface {
		error
		RetryAfter() time.Duration
	}](err)
	if !ok {
		return 0, false
	}
	return ra.RetryAfter(), true
}

// backoff doubles from 500 ms per failed attempt up to MaxBackoff.
func (r *Relay) backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond
	for i := 1; i < attempt && d < r.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.opts.MaxBackoff)
}

// Prune deletes the rows delivered longer than Retention ago, in batches, and returns
// how many it deleted.
func (r *Relay) Prune(ctx context.Context) (int64, error) {
	cutoff := r.opts.Now().Add(-r.opts.Retention)
	var total int64
	for {
		n, err := Prune(ctx, r.db, cutoff, 1000)
		total += n
		if err != nil || n < 1000 || ctx.Err() != nil {
			if total > 0 {
				r.logger.InfoContext(ctx, "pruned delivered outbox rows", "rows", total, "delivered_before", cutoff)
			}
			return total, err
		}
	}
}

// Backlog reads the relay's outbox backlog.
func (r *Relay) Backlog(ctx context.Context) (Backlog, error) {
	return ReadBacklog(ctx, r.db, r.opts.Now())
}
