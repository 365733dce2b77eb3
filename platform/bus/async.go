package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// PoisonTopic names the poison queue of the in-process router.
const PoisonTopic = "switchyard.poison"

// AsyncOptions tune the router's retry of a failing handler before the message is
// poisoned (and the outbox takes over, with its own longer backoff).
type AsyncOptions struct {
	MaxRetries      int
	InitialInterval time.Duration
	CloseTimeout    time.Duration
}

func (o AsyncOptions) withDefaults() AsyncOptions {
	if o.MaxRetries == 0 {
		o.MaxRetries = 3
	}
	if o.InitialInterval == 0 {
		o.InitialInterval = 50 * time.Millisecond
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = 30 * time.Second
	}
	return o
}

// Async delivers through a watermill router over an in-process GoChannel.
type Async struct {
	pubsub *gochannel.GoChannel
	routed
	poison  *poisonRecorder
	topics  map[string]bool
	closing atomic.Bool
}

// NewAsync builds the router and subscribes every handler. Call Run to start it.
func NewAsync(logger *slog.Logger, opts AsyncOptions, handlers ...Handler) (*Async, error) {
	byTopic, err := validate(handlers)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	wlog := watermillLogger(logger)
	pubsub := gochannel.NewGoChannel(gochannel.Config{
		// The outbox relay waits for every subscriber's ack, so that a row is marked
		// delivered only after its handlers ran (or gave up into the poison queue).
		BlockPublishUntilSubscriberAck: true,
	}, wlog)
	poison := &poisonRecorder{failures: make(map[string][]error)}
	poisonMW, err := middleware.PoisonQueue(poison, PoisonTopic)
	if err != nil {
		return nil, fmt.Errorf("bus: poison queue: %w", err)
	}
	// The poison queue is outermost: what still fails after the retries is poisoned, then acked.
	router, err := newRouter(wlog, retryPolicy{opts.MaxRetries, opts.InitialInterval, opts.CloseTimeout}, poisonMW)
	if err != nil {
		return nil, err
	}
	topics := make(map[string]bool)
	for topic, hs := range byTopic {
		topics[topic] = true
		for _, h := range hs {
			router.AddConsumerHandler(h.Name, topic, pubsub, h.Handle)
		}
	}
	return &Async{routed: routed{router}, pubsub: pubsub, poison: poison, topics: topics}, nil
}

// Close stops the router, waiting for running handlers, then the pub/sub.
func (a *Async) Close() error {
	a.closing.Store(true)
	return errors.Join(a.router.Close(), a.pubsub.Close())
}

// Consumes reports whether any handler is subscribed to topic.
func (a *Async) Consumes(topic string) bool { return a.topics[topic] }

// Deliver publishes msg and waits until every subscriber acknowledged it. It returns an
// error naming the handlers that poisoned it.
func (a *Async) Deliver(ctx context.Context, topic string, msg *message.Message) error {
	select {
	case <-a.router.Running():
	case <-ctx.Done():
		return fmt.Errorf("bus: router not running: %w", ctx.Err())
	}
	a.poison.expect(msg.UUID)
	defer a.poison.forget(msg.UUID)
	if err := a.pubsub.Publish(topic, msg); err != nil {
		return fmt.Errorf("bus: publish %s: %w", topic, err)
	}
	// GoChannel stops waiting for acks when it closes; a message then may not have been
	// processed, so it must not count as delivered (a redelivery is deduplicated).
	if a.closing.Load() {
		return errors.New("bus: closed before every consumer acknowledged the message")
	}
	return errors.Join(a.poison.take(msg.UUID)...)
}

// poisonRecorder is the poison queue's publisher: it hands each poisoned message's
// failure back to the Deliver call waiting for it, which leaves the outbox row for a
// later retry. Nothing is dropped: the outbox row is the durable copy.
type poisonRecorder struct {
	mu       sync.Mutex
	failures map[string][]error
}

func (p *poisonRecorder) expect(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures[id] = nil
}

func (p *poisonRecorder) take(id string) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failures[id]
}

func (p *poisonRecorder) forget(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.failures, id)
}

func (p *poisonRecorder) Publish(_ string, msgs ...*message.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		err := &HandlerError{
			Handler: m.Metadata.Get(middleware.PoisonedHandlerKey),
			Err:     errors.New(m.Metadata.Get(middleware.ReasonForPoisonedKey)),
		}
		p.failures[m.UUID] = append(p.failures[m.UUID], err)
	}
	return nil
}

func (p *poisonRecorder) Close() error { return nil }
