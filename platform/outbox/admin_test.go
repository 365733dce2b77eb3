package outbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/platform/apperr"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/outbox"
)

// failOnce enqueues id and lets one delivery attempt of it fail.
func (f *fixture) failOnce(t *testing.T, id string) {
	t.Helper()
	f.cons.setFailing(true)
	f.enqueue(t, id, 0)
	if n, _ := f.relay.DeliverDue(context.Background()); n != 0 {
		t.Fatalf("%s delivered while the consumer fails", id)
	}
	f.cons.setFailing(false)
}

func TestListFailingShowsPendingRowsWhoseLastAttemptFailed(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.failOnce(t, "bad1")
		f.clock.Advance(time.Millisecond)
		f.failOnce(t, "bad2")
		f.enqueue(t, "held", time.Hour) // pending, never attempted: not failing

		got, err := f.relay.ListFailing(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].EventID != "bad1" || got[1].EventID != "bad2" {
			t.Fatalf("ListFailing = %+v, want bad1, bad2", got)
		}
		e := got[0]
		start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		if e.Topic != "t" || e.EventType != "test.v1.happened" || e.Attempts != 1 ||
			!strings.Contains(e.LastError, "projection store unavailable") ||
			!e.CreatedAt.Equal(start) || !e.NextAttemptAt.Equal(start.Add(500*time.Millisecond)) {
			t.Fatalf("failing entry %+v", e)
		}
		if got, _ := f.relay.ListFailing(ctx, 1); len(got) != 1 || got[0].EventID != "bad1" {
			t.Fatalf("ListFailing(limit 1) = %+v", got)
		}
		for _, bad := range []int{0, -1, outbox.MaxListLimit + 1} {
			if _, err := f.relay.ListFailing(ctx, bad); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("ListFailing(%d) err = %v, want Invalid", bad, err)
			}
		}
		if b := f.backlog(t); b.Pending != 3 || b.Failing != 2 {
			t.Fatalf("backlog = %+v, want 3 pending, 2 failing", b)
		}
	})
}

func TestResubmitMakesAFailingRowDueAndTheRelayDeliversIt(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.cons.setFailing(true)
		f.enqueue(t, "poison", 0)
		// Fail it until its backoff is long: the row waits MaxBackoff (4 s) now.
		for range 5 {
			f.clock.Advance(4 * time.Second)
			_, _ = f.relay.DeliverDue(ctx)
		}
		f.cons.setFailing(false)
		if n, _ := f.relay.DeliverDue(ctx); n != 0 {
			t.Fatal("row retried before its backoff elapsed")
		}

		e, err := f.relay.Resubmit(ctx, "poison")
		if err != nil {
			t.Fatal(err)
		}
		if e.EventID != "poison" || e.Attempts != 5 || !e.NextAttemptAt.Equal(f.clock.Now()) || e.LastError == "" {
			t.Fatalf("resubmitted entry %+v", e)
		}
		if n, err := f.relay.DeliverDue(ctx); n != 1 || err != nil {
			t.Fatalf("DeliverDue after resubmit = %d, %v; want 1", n, err)
		}
		if got := f.cons.received(); len(got) != 1 || got[0] != "poison" {
			t.Fatalf("consumer received %v", got)
		}
		if got, _ := f.relay.ListFailing(ctx, 10); len(got) != 0 {
			t.Fatalf("delivered row still listed as failing: %+v", got)
		}

		// Delivered or unknown: nothing to resubmit.
		for _, id := range []string{"poison", "never-enqueued"} {
			if _, err := f.relay.Resubmit(ctx, id); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("Resubmit(%s) err = %v, want NotFound", id, err)
			}
		}
	})
}

func TestResubmitWakesARunningRelay(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		f.failOnce(t, "e1") // next attempt in 500 ms of the fake clock, which stands still
		deliverer, err := bus.NewSync(bus.Handler{Name: "consumer", Topic: "t", Handle: f.cons.handle})
		if err != nil {
			t.Fatal(err)
		}
		// It polls once, at start; only Resubmit's wake-up can make it look again.
		relay := outbox.NewRelay(f.db, deliverer, slog.New(slog.NewTextHandler(io.Discard, nil)),
			outbox.RelayOptions{Now: f.clock.Now, Poll: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- relay.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		time.Sleep(20 * time.Millisecond)
		if len(f.cons.received()) != 0 {
			t.Fatal("relay retried before the backoff elapsed")
		}
		if _, err := relay.Resubmit(context.Background(), "e1"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(f.cons.received()) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := f.cons.received(); len(got) != 1 {
			t.Fatalf("running relay delivered %v after resubmit, want [e1]", got)
		}
	})
}

// syncBuffer is a log sink safe for the relay's goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// logLines runs a relay over f's outbox for a while and returns its backlog log records.
func logLines(t *testing.T, f *fixture) []map[string]any {
	t.Helper()
	logs := &syncBuffer{}
	deliverer, err := bus.NewSync(bus.Handler{Name: "consumer", Topic: "t", Handle: f.cons.handle})
	if err != nil {
		t.Fatal(err)
	}
	relay := outbox.NewRelay(f.db, deliverer, slog.New(slog.NewJSONHandler(logs, nil)), outbox.RelayOptions{
		Now: f.clock.Now, Poll: time.Hour, BacklogLogEvery: 10 * time.Millisecond, BacklogWarnAge: time.Minute,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	time.Sleep(150 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if strings.HasPrefix(m["msg"].(string), "outbox backlog") {
			records = append(records, m)
		}
	}
	return records
}

func TestRelayLogsItsBacklogWhileAnythingIsPendingAndWarnsWhenItIsOld(t *testing.T) {
	eachDialect(t, func(t *testing.T, f *fixture) {
		if got := logLines(t, f); len(got) != 0 {
			t.Fatalf("empty outbox logged %v", got)
		}

		f.failOnce(t, "stuck")
		records := logLines(t, f)
		if len(records) < 2 {
			t.Fatalf("pending backlog logged %d times in 150 ms at a 10 ms period, want several", len(records))
		}
		if r := records[0]; r["level"] != "INFO" || r["pending"] != 1.0 || r["failing"] != 1.0 || r["oldest_age_ms"] != 0.0 {
			t.Fatalf("young backlog logged as %v", r)
		}

		f.clock.Advance(2 * time.Minute)
		f.cons.setFailing(true) // the relay's retry fails: the row stays, and grows old
		records = logLines(t, f)
		if len(records) == 0 {
			t.Fatal("old backlog not logged")
		}
		if r := records[0]; r["level"] != "WARN" || r["oldest_age_ms"] != float64((2*time.Minute).Milliseconds()) {
			t.Fatalf("old backlog logged as %v", r)
		}
	})
}

// adminServer serves f's relay's admin routes behind a bearer token, as the binary does.
func adminServer(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := httpx.NewEcho(logger)
	f.relay.Routes(e.Group(""), httpx.RequireBearer([]httpx.Token{{Name: "ops", Secret: "ops-secret-token-0001"}}))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	status int
	ctype  string
	body   map[string]any
}

func call(t *testing.T, srv *httptest.Server, method, path, token string) reply {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
	}
	return reply{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: body}
}

func TestAdminEndpoints(t *testing.T) {
	const token = "ops-secret-token-0001"
	eachDialect(t, func(t *testing.T, f *fixture) {
		srv := adminServer(t, f)
		f.failOnce(t, "bad1")
		f.enqueue(t, "held", time.Hour)
		f.clock.Advance(1500 * time.Millisecond)

		got := call(t, srv, http.MethodGet, "/api/v1/admin/outbox", token)
		if got.status != http.StatusOK || got.body["pending"] != 2.0 || got.body["failing"] != 1.0 || got.body["oldestAgeMs"] != 1500.0 {
			t.Fatalf("GET backlog: %d %v", got.status, got.body)
		}

		got = call(t, srv, http.MethodGet, "/api/v1/admin/outbox/failing?limit=5", token)
		entries, _ := got.body["entries"].([]any)
		if got.status != http.StatusOK || len(entries) != 1 {
			t.Fatalf("GET failing: %d %v", got.status, got.body)
		}
		if e := entries[0].(map[string]any); e["eventId"] != "bad1" || e["attempts"] != 1.0 ||
			!strings.Contains(e["lastError"].(string), "projection store unavailable") ||
			e["createdAt"] != "2026-01-01T12:00:00Z" || e["nextAttemptAt"] != "2026-01-01T12:00:00.5Z" {
			t.Fatalf("failing entry %v", e)
		}
		if got := call(t, srv, http.MethodGet, "/api/v1/admin/outbox/failing", token); got.status != http.StatusOK {
			t.Fatalf("GET failing without limit: %d %v", got.status, got.body)
		}

		got = call(t, srv, http.MethodPost, "/api/v1/admin/outbox/held/resubmit", token)
		if got.status != http.StatusAccepted || got.body["eventId"] != "held" || got.body["nextAttemptAt"] != "2026-01-01T12:00:01.5Z" {
			t.Fatalf("POST resubmit: %d %v", got.status, got.body)
		}
		if n, _ := f.relay.DeliverDue(context.Background()); n != 2 {
			t.Fatalf("relay delivered %d rows after resubmit, want the resubmitted one and the retried one", n)
		}
		got = call(t, srv, http.MethodGet, "/api/v1/admin/outbox", token)
		if got.body["pending"] != 0.0 || got.body["oldestAgeMs"] != 0.0 {
			t.Fatalf("backlog after delivery: %v", got.body)
		}

		for _, tc := range []struct {
			name, method, path, token string
			status                    int
			field                     string
		}{
			{"no token", http.MethodGet, "/api/v1/admin/outbox", "", http.StatusUnauthorized, ""},
			{"wrong token", http.MethodGet, "/api/v1/admin/outbox/failing", "not-the-token-at-all", http.StatusUnauthorized, ""},
			{"resubmit without token", http.MethodPost, "/api/v1/admin/outbox/x/resubmit", "", http.StatusUnauthorized, ""},
			{"delivered", http.MethodPost, "/api/v1/admin/outbox/held/resubmit", token, http.StatusNotFound, ""},
			{"unknown", http.MethodPost, "/api/v1/admin/outbox/nope/resubmit", token, http.StatusNotFound, ""},
			{"limit not a number", http.MethodGet, "/api/v1/admin/outbox/failing?limit=ten", token, http.StatusBadRequest, "limit"},
			{"limit zero", http.MethodGet, "/api/v1/admin/outbox/failing?limit=0", token, http.StatusBadRequest, "limit"},
			{"limit too big", http.MethodGet, "/api/v1/admin/outbox/failing?limit=501", token, http.StatusBadRequest, "limit"},
			{"limit empty", http.MethodGet, "/api/v1/admin/outbox/failing?limit=", token, http.StatusBadRequest, "limit"},
			{"unknown parameter", http.MethodGet, "/api/v1/admin/outbox/failing?cursor=x", token, http.StatusBadRequest, "cursor"},
			{"event id too long", http.MethodPost, "/api/v1/admin/outbox/" + strings.Repeat("x", 201) + "/resubmit", token, http.StatusBadRequest, "eventId"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := call(t, srv, tc.method, tc.path, tc.token)
				if got.status != tc.status || got.ctype != httpx.ProblemContentType {
					t.Fatalf("%d %s %v, want %d problem", got.status, got.ctype, got.body, tc.status)
				}
				if tc.field != "" && got.body["field"] != tc.field {
					t.Fatalf("problem names field %v, want %s: %v", got.body["field"], tc.field, got.body)
				}
			})
		}
	})
}

func TestRoutesPanicsOnNilAuth(t *testing.T) {
	f := newFixture(t, "sqlite")
	defer func() {
		if recover() == nil {
			t.Fatal("Routes accepted a nil auth middleware")
		}
	}()
	f.relay.Routes(httpx.NewEcho(slog.New(slog.NewTextHandler(io.Discard, nil))).Group(""), nil)
}
