package bus

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Sync runs handlers inline. A handler that fails is retried a few times at short
// intervals (a busy database, say) before its error is returned.
type Sync struct {
	byTopic  map[string][]Handler
	attempts int
	pause    time.Duration
}

// NewSync returns a synchronous deliverer for handlers.
func NewSync(handlers ...Handler) (*Sync, error) {
	byTopic, err := validate(handlers)
	if err != nil {
		return nil, err
	}
	return &Sync{byTopic: byTopic, attempts: 3, pause: 20 * time.Millisecond}, nil
}

// Consumes reports whether any handler is subscribed to topic.
func (s *Sync) Consumes(topic string) bool { return len(s.byTopic[topic]) > 0 }

// Deliver runs every handler of topic and joins their errors.
func (s *Sync) Deliver(ctx context.Context, topic string, msg *message.Message) error {
	var errs []error
	for _, h := range s.byTopic[topic] {
		if err := s.runWithRetry(ctx, h, msg); err != nil {
			errs = append(errs, &HandlerError{Handler: h.Name, Err: err})
		}
	}
	return errors.Join(errs...)
}

func (s *Sync) runWithRetry(ctx context.Context, h Handler, msg *message.Message) error {
	var err error
	pause := s.pause
	for attempt := 1; attempt <= s.attempts; attempt++ {
		m := msg.Copy()
		m.SetContext(ctx)
		if err = runRecovering(h, m); err == nil {
			return nil
		}
		if attempt == s.attempts || isRetryLater(err) {
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
		pause *= 2
	}
	return err
}

func runRecovering(h Handler, msg *message.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return h.Handle(msg)
}
