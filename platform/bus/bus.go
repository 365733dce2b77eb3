package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Handler is one consumer of one topic.
type Handler struct {
	// Name identifies the consumer; it keys the consumer's inbox, so it is contract.
	Name   string
	Topic  string
	Handle message.NoPublishHandlerFunc
}

// Deliverer delivers one message to every handler of its topic.
type Deliverer interface {
	// Deliver returns nil only when every handler of topic processed msg.
	Deliver(ctx context.Context, topic string, msg *message.Message) error
	// Consumes reports whether any handler is subscribed to topic.
	Consumes(topic string) bool
}

// HandlerError is one handler's failure to process a message.
type HandlerError struct {
	Handler string
	Err     error
}

func (e *HandlerError) Error() string { return fmt.Sprintf("handler %s: %v", e.Handler, e.Err) }
func (e *HandlerError) Unwrap() error { return e.Err }

// RetryLater marks a handler's error as one the sync deliverer must not retry at once:
// the handler has already bounded its own attempt (a remote call under a deadline and a
// circuit breaker, say), so retrying inline would only make the caller wait longer. The
// outbox relay retries the event later, as it does every failed delivery.
func RetryLater(err error) error {
	if err == nil {
		return nil
	}
	return retryLater{err}
}

type retryLater struct{ err error }

func (e retryLater) Error() string { return e.err.Error() }
func (e retryLater) Unwrap() error { return e.err }

func isRetryLater(err error) bool {
	_, ok := errors.AsType[retryLater](err)
	return ok
}

// FailedHandlers lists the names of the handlers that failed in err (from Deliver).
func FailedHandlers(err error) []string {
	var names []string
	var walk func(error)
	walk = func(e error) {
		if he, ok := e.(*HandlerError); ok {
			names = append(names, he.Handler)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			if x := u.Unwrap(); x != nil {
				walk(x)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return names
}

func validate(handlers []Handler) (map[string][]Handler, error) {
	byTopic := make(map[string][]Handler)
	seen := make(map[string]bool)
	for _, h := range handlers {
		switch {
		case h.Name == "" || h.Topic == "" || h.Handle == nil:
			return nil, fmt.Errorf("bus: handler %q needs a name, a topic and a function", h.Name)
		case seen[h.Name]:
			return nil, fmt.Errorf("bus: two handlers are named %q", h.Name)
		}
		seen[h.Name] = true
		byTopic[h.Topic] = append(byTopic[h.Topic], h)
	}
	return byTopic, nil
}
