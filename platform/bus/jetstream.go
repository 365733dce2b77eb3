package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// JetStreamOptions configure the NATS JetStream deliverer. URL and Stream are required;
// zero values of the others take the defaults.
type JetStreamOptions struct {
	// URL of the NATS server(s), comma separated (nats://host:4222).
	URL string
	// Stream is the JetStream stream that stores the events (flagsv1.Stream).
	Stream string
	// Subjects the stream stores (flagsv1.StreamSubject). Default: the handlers' topics.
	// A topic is published on the subject of the same name.
	Subjects []string
	// ClientName names the NATS connections (default "switchyard").
	ClientName string
	// DuplicateWindow is how long JetStream remembers an event id to drop a second
	// publication of it (default 2 min): an outbox row delivered twice within it is stored
	// once; later, the consumers' inboxes deduplicate.
	DuplicateWindow time.Duration
	// MaxAge bounds how long the stream keeps an event (default 0: forever).
	MaxAge time.Duration
	// PublishTimeout bounds how long Deliver waits for JetStream's acknowledgement
	// (default 5 s). While disconnected, Deliver fails at once.
	PublishTimeout time.Duration
	// AckWait is how long JetStream waits for a consumer's ack before it redelivers
	// (default 30 s); a handler must finish, retries included, within it.
	AckWait time.Duration
	// MaxRetries and InitialInterval tune the in-process retry of a failing handler
	// before the message is nacked (defaults 3 and 50 ms, doubling).
	MaxRetries      int
	InitialInterval time.Duration
	// RedeliveryDelay is how long JetStream waits before redelivering a nacked message
	// the first time (default 1 s); it doubles per delivery up to MaxRedeliveryDelay
	// (default 1 min). Redelivery is unlimited: a message is never dropped.
	RedeliveryDelay    time.Duration
	MaxRedeliveryDelay time.Duration
	// ReconnectWait is the pause between reconnection attempts (default 1 s); the
	// connections retry forever.
	ReconnectWait time.Duration
	// CloseTimeout bounds how long Close waits for running handlers (default 30 s).
	CloseTimeout time.Duration
}

func (o JetStreamOptions) withDefaults() JetStreamOptions {
	if o.ClientName == "" {
		o.ClientName = "switchyard"
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = 2 * time.Minute
	}
	if o.PublishTimeout == 0 {
		o.PublishTimeout = 5 * time.Second
	}
	if o.AckWait == 0 {
		o.AckWait = 30 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 3
	}
	if o.InitialInterval == 0 {
		o.InitialInterval = 50 * time.Millisecond
	}
	if o.RedeliveryDelay == 0 {
		o.RedeliveryDelay = time.Second
	}
	if o.MaxRedeliveryDelay == 0 {
		o.MaxRedeliveryDelay = time.Minute
	}
	if o.ReconnectWait == 0 {
		o.ReconnectWait = time.Second
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = 30 * time.Second
	}
	return o
}

// JetStream delivers through a NATS JetStream stream, between processes. Deliver returns
// nil once JetStream has stored the message (from then on JetStream, not the outbox, is
// the durable copy); every Handler consumes it through a durable consumer named after
// the handler (DurableName), shared by every replica, so each event is processed once
// per handler per deployment. The handler runs under the same retry and panic recovery
// as in Async; it is acked after it succeeded, and nacked otherwise: JetStream then
// redelivers it with a doubling delay, without limit (nothing is dropped; a handler
// that never succeeds shows up as a growing redelivery count in the logs and in the
// consumer's pending count).
type JetStream struct {
	opts     JetStreamOptions
	pubConn  *nats.Conn
	js       nats.JetStreamContext
	subConns []*nats.Conn
	routed
	subjects []string
}

// NewJetStream connects to NATS, creates or updates the stream and subscribes every
// handler through its durable consumer. Call Run to start consuming.
func NewJetStream(logger *slog.Logger, opts JetStreamOptions, handlers ...Handler) (*JetStream, error) {
	if _, err := validate(handlers); err != nil {
		return nil, err
	}
	if opts.URL == "" || opts.Stream == "" {
		return nil, errors.New("bus: jetstream needs a URL and a stream name")
	}
	opts = opts.withDefaults()
	durables := make(map[string]string, len(handlers))
	for _, h := range handlers {
		d := DurableName(h.Name)
		if other, ok := durables[d]; ok {
			return nil, fmt.Errorf("bus: handlers %q and %q map to the same durable consumer %q", other, h.Name, d)
		}
		durables[d] = h.Name
	}
	subjects := slices.Clone(opts.Subjects)
	if len(subjects) == 0 {
		for _, h := range handlers {
			if !slices.Contains(subjects, h.Topic) {
				subjects = append(subjects, h.Topic)
			}
		}
	}
	if len(subjects) == 0 {
		return nil, errors.New("bus: jetstream stream needs subjects (or handlers)")
	}
	for _, h := range handlers {
		if !slices.Contains(subjects, h.Topic) {
			return nil, fmt.Errorf("bus: handler %q consumes %s, which stream %s does not store", h.Name, h.Topic, opts.Stream)
		}
	}

	j := &JetStream{opts: opts, subjects: subjects}
	ok := false
	defer func() {
		if !ok {
			j.closeConns()
		}
	}()
	var err error
	// The publishing connection buffers nothing while disconnected, so that Deliver
	// fails at once and the outbox keeps the row.
	j.pubConn, err = j.connect("publisher", nats.ReconnectBufSize(-1))
	if err != nil {
		return nil, err
	}
	j.js, err = j.pubConn.JetStream()
	if err != nil {
		return nil, fmt.Errorf("bus: jetstream context: %w", err)
	}
	if err := j.ensureStream(); err != nil {
		return nil, err
	}

	wlog := watermillLogger(logger, "bus", "jetstream")
	router, err := newRouter(wlog, retryPolicy{opts.MaxRetries, opts.InitialInterval, opts.CloseTimeout})
	if err != nil {
		return nil, err
	}
	for _, h := range handlers {
		sub, err := j.subscriber(h, wlog)
		if err != nil {
			return nil, err
		}
		router.AddConsumerHandler(h.Name, h.Topic, sub, h.Handle)
	}
	j.routed = routed{router}
	ok = true
	return j, nil
}

// DurableName is the JetStream durable consumer (and queue group) name of a handler:
// its name with every character other than ASCII letters, digits, "-" and "_" replaced
// by "_" (NATS forbids ".", "*", ">", whitespace and path separators in it).
func DurableName(handler string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, handler)
}

func (j *JetStream) connect(role string, extra ...nats.Option) (*nats.Conn, error) {
	options := append([]nats.Option{
		nats.Name(j.opts.ClientName + "-" + role),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(j.opts.ReconnectWait),
	}, extra...)
	conn, err := nats.Connect(j.opts.URL, options...)
	if err != nil {
		return nil, fmt.Errorf("bus: connect to nats (%s): %w", role, err)
	}
	return conn, nil
}

// ensureStream creates the stream or brings its configuration up to date.
func (j *JetStream) ensureStream() error {
	cfg := &nats.StreamConfig{
		Name:       j.opts.Stream,
		Subjects:   j.subjects,
		Storage:    nats.FileStorage,
		Retention:  nats.LimitsPolicy,
		Duplicates: j.opts.DuplicateWindow,
		MaxAge:     j.opts.MaxAge,
	}
	_, err := j.js.StreamInfo(j.opts.Stream)
	switch {
	case errors.Is(err, nats.ErrStreamNotFound):
		_, err = j.js.AddStream(cfg)
		if errors.Is(err, nats.ErrStreamNameAlreadyInUse) { // another replica won the race
			_, err = j.js.UpdateStream(cfg)
		}
	case err == nil:
		_, err = j.js.UpdateStream(cfg)
	}
	if err != nil {
		return fmt.Errorf("bus: ensure stream %s: %w", j.opts.Stream, err)
	}
	return nil
}

func (j *JetStream) subscriber(h Handler, wlog watermill.LoggerAdapter) (*wnats.Subscriber, error) {
	// One connection per subscriber: closing a watermill-nats subscriber drains its connection.
	conn, err := j.connect("consumer-" + DurableName(h.Name))
	if err != nil {
		return nil, err
	}
	j.subConns = append(j.subConns, conn)
	durable := DurableName(h.Name)
	sub, err := wnats.NewSubscriberWithNatsConn(conn, wnats.SubscriberSubscriptionConfig{
		Unmarshaler:      &wnats.NATSMarshaler{},
		SubscribersCount: 1,
		AckWaitTimeout:   j.opts.AckWait,
		CloseTimeout:     j.opts.CloseTimeout,
		SubscribeTimeout: j.opts.PublishTimeout,
		QueueGroupPrefix: durable,
		SubjectCalculator: func(queueGroup, topic string) *wnats.SubjectDetail {
			return &wnats.SubjectDetail{Primary: topic, QueueGroup: queueGroup}
		},
		NakDelay: redeliveryDelay{first: j.opts.RedeliveryDelay, max: j.opts.MaxRedeliveryDelay},
		JetStream: wnats.JetStreamConfig{
			SubscribeOptions: []nats.SubOpt{
				nats.BindStream(j.opts.Stream),
				nats.ManualAck(),
				nats.AckExplicit(),
				nats.AckWait(j.opts.AckWait),
				nats.MaxDeliver(-1),
				nats.DeliverAll(),
			},
			DurableCalculator: func(string, string) string { return durable },
		},
	}, wlog)
	if err != nil {
		return nil, fmt.Errorf("bus: subscriber %s: %w", h.Name, err)
	}
	return sub, nil
}

// Close stops consuming, waiting for running handlers, then closes the connections.
func (j *JetStream) Close() error {
	err := j.router.Close()
	j.closeConns()
	return err
}

func (j *JetStream) closeConns() {
	if j.pubConn != nil {
		j.pubConn.Close()
	}
	for _, c := range j.subConns {
		c.Close()
	}
}

// Consumes reports whether the stream stores topic. The consumers may live in other
// processes: a stored event waits in the stream for every durable consumer, including
// one created later (it starts from the first stored event).
func (j *JetStream) Consumes(topic string) bool { return slices.Contains(j.subjects, topic) }

// Deliver publishes msg on the subject topic with msg.UUID as JetStream's deduplication
// id, and returns nil once JetStream acknowledged storing it (or already had it). It
// fails at once while disconnected from NATS.
func (j *JetStream) Deliver(ctx context.Context, topic string, msg *message.Message) error {
	if !j.pubConn.IsConnected() {
		return fmt.Errorf("bus: publish %s: nats %s", topic, strings.ToLower(j.pubConn.Status().String()))
	}
	natsMsg, err := (&wnats.NATSMarshaler{}).Marshal(topic, msg)
	if err != nil {
		return fmt.Errorf("bus: marshal %s: %w", msg.UUID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, j.opts.PublishTimeout)
	defer cancel()
	if _, err := j.js.PublishMsg(natsMsg, nats.MsgId(msg.UUID), nats.ExpectStream(j.opts.Stream), nats.Context(ctx)); err != nil {
		return fmt.Errorf("bus: publish %s to stream %s: %w", topic, j.opts.Stream, err)
	}
	return nil
}

// redeliveryDelay doubles from first per delivery, up to max. It never terminates a
// message.
type redeliveryDelay struct{ first, max time.Duration }

func (d redeliveryDelay) WaitTime(delivered uint64) time.Duration {
	delay := d.first
	for i := uint64(1); i < delivered && delay < d.max; i++ {
		delay *= 2
	}
	return min(delay, d.max)
}
