package httppush

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/switchyardhq/switchyard/platform/breaker"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/outbox"
)

// DefaultTimeout is the push's per-call deadline when Options.Breaker.CallTimeout is unset:
// a write waits at most this long for a read pod before it is told "not yet visible".
const DefaultTimeout = 2 * time.Second

// Options configure a Pusher.
type Options struct {
	// Consumer is the remote consumer's name (its inbox key), e.g. "evaluation-projection";
	// it names the bus handler, so a failed push lists it among the pending consumers.
	Consumer string
	// Topic is the topic whose events are pushed.
	Topic string
	// URL is the receiving service's base URL (http or https), e.g. http://switchyard-read:8080.
	URL string
	// Token is the service token the receiver accepts.
	Token string
	// Breaker configures the circuit breaker around each push. CallTimeout is the strict
	// per-call deadline (default DefaultTimeout); Name defaults to "push-"+Consumer; the
	// other fields keep platform/breaker's defaults (trip after 4, cooldown 15 s growing to
	// 60 s, transient errors count: timeouts, connection failures, 5xx, 429 — never 4xx).
	Breaker breaker.Settings
	// HTTPClient sends the pushes (default: a client with its own keep-alive pool).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Pusher pushes events to a remote consumer. Its Handler goes into a sync deliverer.
type Pusher struct {
	opts     Options
	endpoint string
	breaker  *breaker.Breaker[struct{}]
}

// New checks opts and returns a Pusher.
func New(opts Options) (*Pusher, error) {
	var problems []string
	if opts.Consumer == "" || opts.Topic == "" {
		problems = append(problems, "Consumer and Topic are required")
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		problems = append(problems, fmt.Sprintf("URL %q must be an http(s) base URL with a host, e.g. http://switchyard-read:8080", opts.URL))
	}
	if strings.TrimSpace(opts.Token) == "" {
		problems = append(problems, "Token is required")
	}
	if opts.Logger == nil {
		problems = append(problems, "Logger is required")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("httppush: %s", strings.Join(problems, "; "))
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second,
			ResponseHeaderTimeout: 0, // the breaker's CallTimeout bounds the whole call
		}}
	}
	p := &Pusher{opts: opts, endpoint: strings.TrimSuffix(opts.URL, "/") + Path(opts.Topic)}
	s := opts.Breaker
	if s.Name == "" {
		s.Name = "push-" + opts.Consumer
	}
	if s.CallTimeout == 0 {
		s.CallTimeout = DefaultTimeout
	}
	onTrip, onClose := s.OnTrip, s.OnClose
	s.OnTrip = func(err error, failures uint32, cooldown time.Duration) {
		opts.Logger.Warn("push breaker opened: writes commit but are not visible on the read side until it closes; the outbox will deliver",
			"breaker", s.Name, "target", p.endpoint, "failures", failures, "cooldown", cooldown, "err", err)
		if onTrip != nil {
			onTrip(err, failures, cooldown)
		}
	}
	s.OnClose = func(cooldown time.Duration) {
		opts.Logger.Info("push breaker closed: the read side answers again", "breaker", s.Name, "target", p.endpoint, "was_open_for", cooldown)
		if onClose != nil {
			onClose(cooldown)
		}
	}
	if p.breaker, err = breaker.New[struct{}](s); err != nil {
		return nil, fmt.Errorf("httppush: %w", err)
	}
	return p, nil
}

// Handler is the remote consumer as a bus handler of the sync deliverer.
func (p *Pusher) Handler() bus.Handler {
	return bus.Handler{Name: p.opts.Consumer, Topic: p.opts.Topic, Handle: p.handle}
}

// State is the push breaker's state.
func (p *Pusher) State() breaker.State { return p.breaker.State() }

// Settings are the breaker settings in force (defaults filled in).
func (p *Pusher) Settings() breaker.Settings { return p.breaker.Settings() }

func (p *Pusher) handle(msg *message.Message) error {
	_, err := p.breaker.Do(msg.Context(), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, p.post(ctx, msg)
	})
	if err != nil {
		return bus.RetryLater(fmt.Errorf("push event %s to %s: %w", msg.UUID, p.opts.Consumer, err))
	}
	return nil
}

func (p *Pusher) post(ctx context.Context, msg *message.Message) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(msg.Payload))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.opts.Token)
	req.Header.Set(HeaderEventID, msg.UUID)
	req.Header.Set(HeaderEventType, msg.Metadata.Get(outbox.MetadataEventType))
	resp, err := p.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &StatusError{Code: resp.StatusCode, Detail: problemDetail(body)}
}

// StatusError is a push the receiver answered with a non-2xx status. 5xx and 429 count
// towards the breaker (breaker.Transient reads StatusCode); other statuses do not.
type StatusError struct {
	Code   int
	Detail string
}

func (e *StatusError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("receiver answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("receiver answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Detail)
}

// StatusCode is the receiver's HTTP status.
func (e *StatusError) StatusCode() int { return e.Code }

func problemDetail(body []byte) string {
	var p struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &p) == nil && p.Detail != "" {
		return p.Detail
	}
	return strings.TrimSpace(string(body[:min(len(body), 200)]))
}
