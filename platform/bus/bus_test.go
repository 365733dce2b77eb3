package bus_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/switchyardhq/switchyard/platform/bus"
)

const topic = "test.topic"

// recorder is a handler that records what it processed and fails as told.
type recorder struct {
	mu       sync.Mutex
	seen     []string
	failures int32 // fail this many calls before succeeding
	panics   bool
	calls    atomic.Int32
}

func (r *recorder) handle(msg *message.Message) error {
	n := r.calls.Add(1)
	if r.panics {
		panic("handler exploded")
	}
	if n <= atomic.LoadInt32(&r.failures) {
		return errors.New("transient failure")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, string(msg.Payload))
	return nil
}

func (r *recorder) processed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

type deliverer interface {
	bus.Deliverer
}

func newAsync(t *testing.T, handlers ...bus.Handler) *bus.Async {
	t.Helper()
	a, err := bus.NewAsync(slog.New(slog.NewTextHandler(io.Discard, nil)),
		bus.AsyncOptions{MaxRetries: 2, InitialInterval: time.Millisecond}, handlers...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Run(ctx)
	}()
	t.Cleanup(func() {
		_ = a.Close()
		cancel()
		<-done
	})
	<-a.Running()
	return a
}

func modes() map[string]func(t *testing.T, hs ...bus.Handler) deliverer {
	return map[string]func(t *testing.T, hs ...bus.Handler) deliverer{
		"sync": func(t *testing.T, hs ...bus.Handler) deliverer {
			s, err := bus.NewSync(hs...)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"async": func(t *testing.T, hs ...bus.Handler) deliverer { return newAsync(t, hs...) },
	}
}

func TestDeliverReturnsOnlyAfterEveryHandlerProcessed(t *testing.T) {
	for name, build := range modes() {
		t.Run(name, func(t *testing.T) {
			a, b := &recorder{}, &recorder{}
			d := build(t, bus.Handler{Name: "a", Topic: topic, Handle: a.handle}, bus.Handler{Name: "b", Topic: topic, Handle: b.handle})
			if err := d.Deliver(context.Background(), topic, message.NewMessage("id-1", []byte("one"))); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			for _, r := range []*recorder{a, b} {
				if got := r.processed(); !slices.Equal(got, []string{"one"}) {
					t.Fatalf("handler saw %v right after Deliver returned, want [one]", got)
				}
			}
			if !d.Consumes(topic) || d.Consumes("other") {
				t.Fatalf("Consumes: wrong topics")
			}
		})
	}
}

func TestDeliverRetriesTransientFailures(t *testing.T) {
	for name, build := range modes() {
		t.Run(name, func(t *testing.T) {
			r := &recorder{failures: 2}
			d := build(t, bus.Handler{Name: "flaky", Topic: topic, Handle: r.handle})
			if err := d.Deliver(context.Background(), topic, message.NewMessage("id-1", []byte("x"))); err != nil {
				t.Fatalf("Deliver: %v (two failures then success should be retried through)", err)
			}
			if got := r.processed(); len(got) != 1 {
				t.Fatalf("processed %v, want one", got)
			}
		})
	}
}

func TestDeliverReportsHandlersThatKeepFailing(t *testing.T) {
	tests := map[string]*recorder{
		"error": {failures: 1 << 20},
		"panic": {panics: true},
	}
	for mode, build := range modes() {
		for name, bad := range tests {
			t.Run(mode+"/"+name, func(t *testing.T) {
				good := &recorder{}
				d := build(t,
					bus.Handler{Name: "good", Topic: topic, Handle: good.handle},
					bus.Handler{Name: "bad", Topic: topic, Handle: bad.handle})
				err := d.Deliver(context.Background(), topic, message.NewMessage("id-1", []byte("x")))
				if err == nil {
					t.Fatal("Deliver returned nil although a handler never succeeded")
				}
				if got := bus.FailedHandlers(err); !slices.Equal(got, []string{"bad"}) {
					t.Fatalf("FailedHandlers = %v, want [bad] (err: %v)", got, err)
				}
				if len(good.processed()) != 1 {
					t.Fatal("the healthy handler must still process the message")
				}
			})
		}
	}
}

func TestAsyncDeliverAfterCloseIsNotReportedAsDelivered(t *testing.T) {
	r := &recorder{}
	a := newAsync(t, bus.Handler{Name: "h", Topic: topic, Handle: r.handle})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Deliver(context.Background(), topic, message.NewMessage("id-1", []byte("x"))); err == nil {
		t.Fatal("Deliver on a closed bus returned nil: the outbox would mark an unprocessed event delivered")
	}
}

func TestHandlerValidation(t *testing.T) {
	noop := func(*message.Message) error { return nil }
	tests := map[string][]bus.Handler{
		"missing name":   {{Topic: topic, Handle: noop}},
		"missing topic":  {{Name: "a", Handle: noop}},
		"missing func":   {{Name: "a", Topic: topic}},
		"duplicate name": {{Name: "a", Topic: topic, Handle: noop}, {Name: "a", Topic: "t2", Handle: noop}},
	}
	for name, hs := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := bus.NewSync(hs...); err == nil {
				t.Fatal("NewSync accepted invalid handlers")
			}
			if _, err := bus.NewAsync(slog.Default(), bus.AsyncOptions{}, hs...); err == nil {
				t.Fatal("NewAsync accepted invalid handlers")
			}
		})
	}
}

func TestSyncLeavesRetryLaterErrorsToTheOutbox(t *testing.T) {
	remote := errors.New("read pod did not answer within 2s")
	calls := 0
	s, err := bus.NewSync(bus.Handler{Name: "remote", Topic: topic, Handle: func(*message.Message) error {
		calls++
		return bus.RetryLater(remote)
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Deliver(context.Background(), topic, message.NewMessage("id-1", []byte("x")))
	if calls != 1 {
		t.Fatalf("handler called %d times, want 1: a RetryLater error is not retried inline", calls)
	}
	if !errors.Is(err, remote) || !slices.Equal(bus.FailedHandlers(err), []string{"remote"}) {
		t.Fatalf("Deliver = %v, want the handler's error, naming handler remote", err)
	}
	if bus.RetryLater(nil) != nil {
		t.Fatal("RetryLater(nil) must be nil")
	}
}
