package httppush_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/platform/breaker"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/bus/httppush"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/outbox"
)

const (
	topic        = "flags.v1"
	consumerName = "evaluation-projection"
	token        = "push-token-0123456789abcdef"
	eventID      = "01966b3e-7c1a-7000-8000-000000000001"
	payload      = `{"eventId":"01966b3e-7c1a-7000-8000-000000000001","type":"flag_updated"}`
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// projection is the receiving side's consumer: it records what it applied, or fails.
type projection struct {
	mu      sync.Mutex
	applied []*message.Message
	failing bool
}

func (p *projection) handle(msg *message.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failing {
		return errors.New("projection store unavailable")
	}
	p.applied = append(p.applied, msg)
	return nil
}

func (p *projection) setFailing(v bool) { p.mu.Lock(); defer p.mu.Unlock(); p.failing = v }
func (p *projection) count() int        { p.mu.Lock(); defer p.mu.Unlock(); return len(p.applied) }

// receiver is a read process's push endpoint over a real sync deliverer.
func receiver(t *testing.T, p *projection) *httptest.Server {
	t.Helper()
	d, err := bus.NewSync(bus.Handler{Name: consumerName, Topic: topic, Handle: p.handle})
	if err != nil {
		t.Fatal(err)
	}
	e := httpx.NewEcho(quiet)
	httppush.Routes(e.Group(""), httpx.RequireBearer([]httpx.Token{{Name: "command", Secret: token}}), d, quiet)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func newPusher(t *testing.T, url, tok string, s breaker.Settings) *httppush.Pusher {
	t.Helper()
	p, err := httppush.New(httppush.Options{Consumer: consumerName, Topic: topic, URL: url, Token: tok, Breaker: s, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// push delivers one event through a sync deliverer holding only the pusher, as the
// command process does.
func push(t *testing.T, p *httppush.Pusher) error {
	t.Helper()
	d, err := bus.NewSync(p.Handler())
	if err != nil {
		t.Fatal(err)
	}
	msg := outbox.NewMessage(eventID, "flag_updated", []byte(payload))
	return d.Deliver(context.Background(), topic, msg)
}

func TestPushReturnsOnlyAfterTheReceiverApplied(t *testing.T) {
	proj := &projection{}
	srv := receiver(t, proj)
	p := newPusher(t, srv.URL+"/", token, breaker.Settings{})
	if err := push(t, p); err != nil {
		t.Fatalf("push: %v", err)
	}
	if proj.count() != 1 {
		t.Fatalf("receiver applied %d events, want 1 before push returned", proj.count())
	}
	got := proj.applied[0]
	if got.UUID != eventID || got.Metadata.Get(outbox.MetadataEventType) != "flag_updated" || string(got.Payload) != payload {
		t.Fatalf("receiver got id %q type %q payload %s; want the event as the outbox holds it", got.UUID, got.Metadata.Get(outbox.MetadataEventType), got.Payload)
	}
	if s := p.Settings(); s.CallTimeout != httppush.DefaultTimeout || s.TripAfter != breaker.DefaultTripAfter || s.Name != "push-"+consumerName {
		t.Fatalf("settings %+v: want the default push timeout, trip count and name", s)
	}
}

func TestReceiverRefusesBadPushesWithProblems(t *testing.T) {
	proj := &projection{}
	srv := receiver(t, proj)
	big := `{"x":"` + strings.Repeat("a", httpx.MaxBodyBytes) + `"}`
	tests := []struct {
		name, path, auth, contentType, id, eventType, body string
		status                                             int
		field, detail                                      string
	}{
		{"no token", httppush.Path(topic), "", "application/json", eventID, "flag_updated", payload, 401, "", "missing bearer token"},
		{"wrong token", httppush.Path(topic), "Bearer wrong-token-0123456789", "application/json", eventID, "flag_updated", payload, 401, "", "invalid bearer token"},
		{"unknown topic", httppush.Path("audit.v9"), "Bearer " + token, "application/json", eventID, "flag_updated", payload, 404, "", `no consumer of topic "audit.v9"`},
		{"not json", httppush.Path(topic), "Bearer " + token, "text/plain", eventID, "flag_updated", payload, 400, "header:Content-Type", "Content-Type must be application/json"},
		{"no event id", httppush.Path(topic), "Bearer " + token, "application/json", "", "flag_updated", payload, 400, "header:Switchyard-Event-Id", "must be the event's UUID"},
		{"bad event id", httppush.Path(topic), "Bearer " + token, "application/json", "42", "flag_updated", payload, 400, "header:Switchyard-Event-Id", `got "42"`},
		{"bad event type", httppush.Path(topic), "Bearer " + token, "application/json", eventID, "flag updated!", payload, 400, "header:Switchyard-Event-Type", "must be 1-100 letters"},
		{"empty body", httppush.Path(topic), "Bearer " + token, "application/json", eventID, "flag_updated", "", 400, "", "request body is empty"},
		{"malformed payload", httppush.Path(topic), "Bearer " + token, "application/json", eventID, "flag_updated", `{"eventId":`, 400, "", "not valid JSON"},
		{"too large", httppush.Path(topic), "Bearer " + token, "application/json", eventID, "flag_updated", big, 413, "", "exceeds the limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tc.path, strings.NewReader(tc.body))
			for k, v := range map[string]string{"Authorization": tc.auth, "Content-Type": tc.contentType,
				httppush.HeaderEventID: tc.id, httppush.HeaderEventType: tc.eventType} {
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var prob httpx.Problem
			_ = json.NewDecoder(resp.Body).Decode(&prob)
			if resp.StatusCode != tc.status || resp.Header.Get(echo.HeaderContentType) != httpx.ProblemContentType ||
				prob.Field != tc.field || !strings.Contains(prob.Detail, tc.detail) {
				t.Fatalf("got %d %s field %q detail %q; want %d problem field %q detail containing %q",
					resp.StatusCode, resp.Header.Get(echo.HeaderContentType), prob.Field, prob.Detail, tc.status, tc.field, tc.detail)
			}
		})
	}
	if proj.count() != 0 {
		t.Fatalf("a refused push reached the consumer %d times", proj.count())
	}
}

func TestFailedPushesTripTheBreakerButRefusedOnesNeverDo(t *testing.T) {
	proj := &projection{}
	srv := receiver(t, proj)
	var requests atomic.Int32
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer counting.Close()

	t.Run("4xx never trips", func(t *testing.T) {
		p := newPusher(t, counting.URL, "wrong-token-0123456789", breaker.Settings{TripAfter: 2, Cooldown: time.Minute})
		for range 6 {
			var se *httppush.StatusError
			if err := push(t, p); !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
				t.Fatalf("push with a wrong token = %v, want a 401 StatusError", err)
			}
		}
		if p.State() != breaker.Closed {
			t.Fatalf("breaker %s after 401s, want closed: a misconfiguration is not an outage", p.State())
		}
	})

	t.Run("5xx trips, then pushes fail fast without a request", func(t *testing.T) {
		proj.setFailing(true)
		var trips atomic.Int32
		p := newPusher(t, counting.URL, token, breaker.Settings{TripAfter: 3, Cooldown: time.Minute,
			OnTrip: func(error, uint32, time.Duration) { trips.Add(1) }})
		requests.Store(0)
		for i := range 3 {
			var se *httppush.StatusError
			if err := push(t, p); !errors.As(err, &se) || se.Code != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "could not apply") {
				t.Fatalf("push %d = %v, want the receiver's 503 problem", i+1, err)
			}
		}
		if p.State() != breaker.Open || trips.Load() != 1 {
			t.Fatalf("breaker %s with %d trips after 3 failed pushes, want open once", p.State(), trips.Load())
		}
		err := push(t, p)
		var open *breaker.OpenError
		if !errors.As(err, &open) || open.RetryAfter() <= 0 {
			t.Fatalf("push while open = %v, want an OpenError saying when to retry", err)
		}
		if requests.Load() != 3 {
			t.Fatalf("receiver saw %d requests, want 3: an open breaker sends nothing", requests.Load())
		}
	})
}

func TestPushGivesUpAtItsDeadlineAndHealsWhenTheReceiverIsBack(t *testing.T) {
	proj := &projection{}
	srv := receiver(t, proj)
	var stalled atomic.Bool
	stalled.Store(true)
	release := make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stalled.Load() {
			<-release // accepts, never answers while stalled
			return
		}
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer front.Close()
	defer close(release)

	var closes atomic.Int32
	p := newPusher(t, front.URL, token, breaker.Settings{CallTimeout: 100 * time.Millisecond, TripAfter: 2,
		Cooldown: 200 * time.Millisecond, OnClose: func(time.Duration) { closes.Add(1) }})
	for i := range 2 {
		start := time.Now()
		err := push(t, p)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("push %d to a stalled receiver = %v, want its deadline exceeded", i+1, err)
		}
		// Not a speed check: without a deadline this call would hang until the test times out.
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Fatalf("push %d took %s, want it cut at its 100ms deadline", i+1, elapsed)
		}
	}
	if p.State() != breaker.Open {
		t.Fatalf("breaker %s after two timeouts, want open", p.State())
	}
	stalled.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for push(t, p) != nil {
		if time.Now().After(deadline) {
			t.Fatal("breaker never let a probe through once the receiver answered again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p.State() != breaker.Closed || closes.Load() != 1 || proj.count() != 1 {
		t.Fatalf("after recovery: breaker %s, %d closes, %d applied; want closed, 1, 1", p.State(), closes.Load(), proj.count())
	}
}

func TestNewRefusesIncompleteOptions(t *testing.T) {
	ok := httppush.Options{Consumer: consumerName, Topic: topic, URL: "http://read:8080", Token: token, Logger: quiet}
	tests := []struct {
		name   string
		change func(*httppush.Options)
		want   string
	}{
		{"no consumer", func(o *httppush.Options) { o.Consumer = "" }, "Consumer and Topic are required"},
		{"relative url", func(o *httppush.Options) { o.URL = "/read" }, "must be an http(s) base URL"},
		{"nats url", func(o *httppush.Options) { o.URL = "nats://read:4222" }, "must be an http(s) base URL"},
		{"url with query", func(o *httppush.Options) { o.URL = "http://read:8080/?x=1" }, "must be an http(s) base URL"},
		{"no token", func(o *httppush.Options) { o.Token = " " }, "Token is required"},
		{"no logger", func(o *httppush.Options) { o.Logger = nil }, "Logger is required"},
		{"bad breaker", func(o *httppush.Options) { o.Breaker.CallTimeout = -time.Second }, "CallTimeout must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.change(&o)
			if _, err := httppush.New(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := httppush.New(ok); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
}
