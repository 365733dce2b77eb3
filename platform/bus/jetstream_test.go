package bus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/bus"
)

const natsServerBin = "/usr/sbin/nats-server"

// natsServer is a test-owned nats-server process with JetStream on a free port.
type natsServer struct {
	t     *testing.T
	port  int
	store string
	cmd   *exec.Cmd
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	if _, err := os.Stat(natsServerBin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", natsServerBin, err)
		}
		t.Skipf("skipping: %s not found (install nats-server v2.9+ to run the JetStream tests)", natsServerBin)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	s := &natsServer{t: t, port: port, store: t.TempDir()}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

func (s *natsServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(natsServerBin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-sd", s.store)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start nats-server: %v", err)
	}
	eventually(s.t, 10*time.Second, "nats-server accepts connections", func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 100*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
}

func (s *natsServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// counter records how many times each event id was processed successfully.
type counter struct {
	mu    sync.Mutex
	seen  map[string]int
	fails map[string]int // fail this many calls of an id before succeeding
	calls map[string]int
}

func newCounter() *counter {
	return &counter{seen: map[string]int{}, fails: map[string]int{}, calls: map[string]int{}}
}

func (c *counter) handle(msg *message.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[msg.UUID]++
	if c.calls[msg.UUID] <= c.fails[msg.UUID] {
		return errors.New("transient failure")
	}
	c.seen[msg.UUID]++
	return nil
}

func (c *counter) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[id]
}

func (c *counter) callsOf(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.seen))
	for k, v := range c.seen {
		out[k] = v
	}
	return out
}

func newJetStream(t *testing.T, url string, handlers ...bus.Handler) *bus.JetStream {
	t.Helper()
	j, err := bus.NewJetStream(slog.New(slog.NewTextHandler(io.Discard, nil)), bus.JetStreamOptions{
		URL:                url,
		Stream:             flagsv1.Stream,
		Subjects:           []string{flagsv1.StreamSubject},
		PublishTimeout:     2 * time.Second,
		AckWait:            5 * time.Second,
		MaxRetries:         1,
		InitialInterval:    time.Millisecond,
		RedeliveryDelay:    10 * time.Millisecond,
		MaxRedeliveryDelay: 50 * time.Millisecond,
		ReconnectWait:      50 * time.Millisecond,
		CloseTimeout:       5 * time.Second,
	}, handlers...)
	if err != nil {
		t.Fatalf("NewJetStream: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = j.Run(ctx)
	}()
	t.Cleanup(func() {
		_ = j.Close()
		cancel()
		<-done
	})
	select {
	case <-j.Running():
	case <-time.After(10 * time.Second):
		t.Fatal("JetStream router not running after 10 s")
	}
	return j
}

func deliver(t *testing.T, d bus.Deliverer, id string) {
	t.Helper()
	if err := d.Deliver(context.Background(), flagsv1.Topic, message.NewMessage(id, []byte(id))); err != nil {
		t.Fatalf("Deliver %s: %v", id, err)
	}
}

func TestJetStreamDeliversEachEventOnceToEachConsumer(t *testing.T) {
	srv := startNATS(t)
	eval, audit := newCounter(), newCounter()
	j := newJetStream(t, srv.url(),
		bus.Handler{Name: flagsv1.ConsumerEvaluationProjection, Topic: flagsv1.Topic, Handle: eval.handle},
		bus.Handler{Name: flagsv1.ConsumerAuditTimeline, Topic: flagsv1.Topic, Handle: audit.handle})
	if !j.Consumes(flagsv1.Topic) || j.Consumes("other.topic") {
		t.Fatal("Consumes: wrong topics")
	}

	deliver(t, j, "ev-1")
	deliver(t, j, "ev-1") // the outbox redelivers: JetStream stores it once
	deliver(t, j, "ev-2") // a sentinel, stored after the duplicate would have been
	for name, c := range map[string]*counter{"evaluation": eval, "audit": audit} {
		eventually(t, 10*time.Second, name+" processed ev-2", func() bool { return c.count("ev-2") == 1 })
		if n := c.count("ev-1"); n != 1 {
			t.Fatalf("%s processed ev-1 %d times, want once (JetStream deduplication by event id)", name, n)
		}
	}
}

func TestJetStreamRejectsTopicsOutsideTheStream(t *testing.T) {
	srv := startNATS(t)
	j := newJetStream(t, srv.url())
	err := j.Deliver(context.Background(), "not.in.stream", message.NewMessage("ev-1", nil))
	if err == nil {
		t.Fatal("Deliver to a subject no stream stores returned nil: the outbox would drop the event")
	}
}

func TestJetStreamReplicasShareADurableConsumer(t *testing.T) {
	srv := startNATS(t)
	r1, r2, other := newCounter(), newCounter(), newCounter()
	const name = "evaluation.flag-projection"
	j1 := newJetStream(t, srv.url(),
		bus.Handler{Name: name, Topic: flagsv1.Topic, Handle: r1.handle},
		bus.Handler{Name: "audit.flag-timeline", Topic: flagsv1.Topic, Handle: other.handle})
	newJetStream(t, srv.url(), bus.Handler{Name: name, Topic: flagsv1.Topic, Handle: r2.handle})

	const n = 30
	for i := range n {
		deliver(t, j1, fmt.Sprintf("ev-%02d", i))
	}
	total := func() int { return len(r1.snapshot()) + len(r2.snapshot()) }
	eventually(t, 15*time.Second, "every event processed by one of the replicas", func() bool { return total() == n })
	eventually(t, 15*time.Second, "the other consumer processed every event", func() bool { return len(other.snapshot()) == n })
	deliver(t, j1, "sentinel")
	eventually(t, 10*time.Second, "sentinel processed", func() bool { return r1.count("sentinel")+r2.count("sentinel") == 1 })
	for i := range n {
		id := fmt.Sprintf("ev-%02d", i)
		if got := r1.count(id) + r2.count(id); got != 1 {
			t.Fatalf("%s processed %d times across the replicas, want once", id, got)
		}
		if got := other.count(id); got != 1 {
			t.Fatalf("the other consumer processed %s %d times, want once", id, got)
		}
	}
	t.Logf("replica 1 processed %d, replica 2 processed %d", len(r1.snapshot()), len(r2.snapshot()))
}

func TestJetStreamRedeliversAFailingHandlerUntilItSucceeds(t *testing.T) {
	srv := startNATS(t)
	c := newCounter()
	c.fails["ev-1"] = 6 // MaxRetries 1: two calls per delivery, so three nacks before success
	j := newJetStream(t, srv.url(), bus.Handler{Name: "flaky", Topic: flagsv1.Topic, Handle: c.handle})

	deliver(t, j, "ev-1")
	eventually(t, 10*time.Second, "ev-1 processed after redeliveries", func() bool { return c.count("ev-1") == 1 })
	if calls := c.callsOf("ev-1"); calls != 7 {
		t.Fatalf("handler called %d times, want 7 (6 failures, then success)", calls)
	}
}

func TestJetStreamSurvivesANATSOutage(t *testing.T) {
	srv := startNATS(t)
	c := newCounter()
	j := newJetStream(t, srv.url(), bus.Handler{Name: "projection", Topic: flagsv1.Topic, Handle: c.handle})
	deliver(t, j, "before")
	eventually(t, 10*time.Second, "event before the outage processed", func() bool { return c.count("before") == 1 })

	srv.stop()
	start := time.Now()
	err := j.Deliver(context.Background(), flagsv1.Topic, message.NewMessage("during", []byte("x")))
	if err == nil {
		t.Fatal("Deliver returned nil while NATS is down: the outbox would mark an unstored event delivered")
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("Deliver took %s to fail while NATS is down, want fast (publish timeout 2 s)", elapsed)
	}

	srv.start() // same port, same store: the stream and the durable consumer survive
	eventually(t, 15*time.Second, "Deliver succeeds after NATS is back", func() bool {
		return j.Deliver(context.Background(), flagsv1.Topic, message.NewMessage("during", []byte("x"))) == nil
	})
	// A SIGKILLed server can lose an ack it had not persisted, and then redelivers: the
	// transport is at least once (consumers' inboxes make the effect once), so a handler
	// may see an event again, never not at all.
	eventually(t, 15*time.Second, "the consumer resumed and processed the event", func() bool { return c.count("during") >= 1 })
	if n := c.count("before"); n < 1 {
		t.Fatalf("event before the outage was lost (processed %d times)", n)
	}
}

func TestDurableNamesAreTheContractNames(t *testing.T) {
	tests := map[string]string{
		flagsv1.ConsumerEvaluationProjection: flagsv1.DurableEvaluationProjection,
		flagsv1.ConsumerAuditTimeline:        flagsv1.DurableAuditTimeline,
		"a b.c*d>e/f\\g":                     "a_b_c_d_e_f_g",
	}
	for in, want := range tests {
		if got := bus.DurableName(in); got != want {
			t.Errorf("DurableName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJetStreamOptionValidation(t *testing.T) {
	noop := func(*message.Message) error { return nil }
	tests := map[string]struct {
		opts     bus.JetStreamOptions
		handlers []bus.Handler
	}{
		"missing url":        {bus.JetStreamOptions{Stream: "S"}, []bus.Handler{{Name: "a", Topic: "t", Handle: noop}}},
		"missing stream":     {bus.JetStreamOptions{URL: "nats://127.0.0.1:1"}, []bus.Handler{{Name: "a", Topic: "t", Handle: noop}}},
		"durable collision":  {bus.JetStreamOptions{URL: "nats://127.0.0.1:1", Stream: "S"}, []bus.Handler{{Name: "a.b", Topic: "t", Handle: noop}, {Name: "a_b", Topic: "t", Handle: noop}}},
		"topic not stored":   {bus.JetStreamOptions{URL: "nats://127.0.0.1:1", Stream: "S", Subjects: []string{"x"}}, []bus.Handler{{Name: "a", Topic: "t", Handle: noop}}},
		"no subjects at all": {bus.JetStreamOptions{URL: "nats://127.0.0.1:1", Stream: "S"}, nil},
		"invalid handler":    {bus.JetStreamOptions{URL: "nats://127.0.0.1:1", Stream: "S"}, []bus.Handler{{Name: "a", Topic: "t"}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := bus.NewJetStream(slog.Default(), tt.opts, tt.handlers...); err == nil {
				t.Fatal("NewJetStream accepted invalid options")
			}
		})
	}
}
