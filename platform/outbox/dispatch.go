package outbox

import (
	"context"
	"time"
)

// Dispatcher is what a command does with its event once its transaction committed.
//
// Inline (the bus's sync mode) delivers the event to every consumer before returning,
// so the caller can answer only when the change is visible; its error names the
// consumers that failed, and the relay retries them later. Otherwise the dispatcher
// wakes the relay and returns at once.
type Dispatcher struct {
	relay  *Relay
	inline bool
}

// NewDispatcher returns a dispatcher over relay.
func NewDispatcher(relay *Relay, inline bool) Dispatcher {
	if relay == nil {
		panic("outbox.NewDispatcher: nil relay")
	}
	return Dispatcher{relay: relay, inline: inline}
}

// Inline reports whether AfterCommit delivers before it returns.
func (d Dispatcher) Inline() bool { return d.inline }

// Hold is how long Enqueue should keep the relay away from a new row: an inline
// dispatcher delivers the row itself, the relay takes over if it dies.
func (d Dispatcher) Hold() time.Duration {
	if d.inline {
		return d.relay.Hold()
	}
	return 0
}

// AfterCommit delivers (inline) or schedules (otherwise) the committed event.
func (d Dispatcher) AfterCommit(ctx context.Context, eventID string) error {
	if !d.inline {
		d.relay.Notify()
		return nil
	}
	return d.relay.DeliverNow(ctx, eventID)
}
