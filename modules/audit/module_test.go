package audit_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/modules/audit"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/storage"
)

const adminSecret = "s"

// recordedAt is the fixture's clock: when the module records an event.
var recordedAt = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	db      *sqlx.DB
	handler bus.Handler
	srv     *httptest.Server
}

// dialects runs fn as a subtest per dialect; the PostgreSQL one is skipped (failed in CI)
// when no server is reachable.
func dialects(t *testing.T, fn func(t *testing.T, d storage.Dialect)) {
	t.Helper()
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			migratetest.RequireDialect(t, d)
			fn(t, d)
		})
	}
}

// newFixture is a module over a fresh SQLite file.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, storage.SQLite)
}

// newFixtureOn is a module over a fresh store in dialect d.
func newFixtureOn(t *testing.T, d storage.Dialect) *fixture {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	db := migratetest.Open(t, d, filepath.Join(t.TempDir(), "audit.db"), "audit", migrations.For)
	m, err := audit.New(audit.Deps{
		DB:        db,
		Logger:    logger,
		AdminAuth: httpx.RequireBearer([]httpx.Token{{Name: "alice", Secret: adminSecret}}),
		Now:       func() time.Time { return recordedAt },
	})
	if err != nil {
		t.Fatalf("audit.New: %v", err)
	}
	e := httpx.NewEcho(logger)
	m.Routes(e.Group(""))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	handlers := m.Handlers()
	if len(handlers) != 1 {
		t.Fatalf("Handlers() = %d handlers, want 1", len(handlers))
	}
	return &fixture{db: db, handler: handlers[0], srv: srv}
}

// deliverPayload hands payload to the module's handler as a real watermill message.
func (f *fixture) deliverPayload(t *testing.T, uuid string, payload []byte) error {
	t.Helper()
	msg := message.NewMessage(uuid, payload)
	msg.SetContext(t.Context())
	return f.handler.Handle(msg)
}

func (f *fixture) deliver(t *testing.T, ev flagsv1.FlagChanged) {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("marshal event: %v", err)
	}
	if err := f.deliverPayload(t, ev.EventID, payload); err != nil {
		t.Fatalf("handle event %s: %v", ev.EventID, err)
	}
}

// get sends GET /api/v1/audit?query with the admin token unless auth overrides it
// ("-" sends no Authorization header).
func (f *fixture) get(t *testing.T, query, auth string) (*http.Response, []byte) {
	t.Helper()
	return f.getPath(t, "/api/v1/audit", query, auth)
}

// getPath sends GET path?query, authenticated as get does.
func (f *fixture) getPath(t *testing.T, path, query, auth string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+path+"?"+query, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	switch auth {
	case "":
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+adminSecret)
	case "-":
	default:
		req.Header.Set(echo.HeaderAuthorization, auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", query, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}

type listBody struct {
	Entries    []map[string]any `json:"entries"`
	NextCursor *string          `json:"nextCursor"`
}

// list fetches one page and fails the test unless it is a 200 JSON response.
// expectBadRequest checks that request was refused with a 400 problem+json naming
// wantField ("" for none), in its field and in its detail.
func expectBadRequest(t *testing.T, request string, resp *http.Response, body []byte, wantField string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%s: status %d, want 400; body %s", request, resp.StatusCode, body)
	}
	if ct := resp.Header.Get(echo.HeaderContentType); ct != httpx.ProblemContentType {
		t.Fatalf("%s: Content-Type = %q, want %q", request, ct, httpx.ProblemContentType)
	}
	var p struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s: decode problem %s: %v", request, body, err)
	}
	if p.Field != wantField {
		t.Fatalf("%s: field = %q, want %q; body %s", request, p.Field, wantField, body)
	}
	if wantField != "" && !strings.Contains(p.Detail, wantField) {
		t.Fatalf("%s: detail %q does not name %q", request, p.Detail, wantField)
	}
}

func (f *fixture) list(t *testing.T, query string) listBody {
	t.Helper()
	resp, body := f.get(t, query, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET ?%s: status %d, body %s", query, resp.StatusCode, body)
	}
	if ct := resp.Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		t.Fatalf("GET ?%s: Content-Type %q, want application/json", query, ct)
	}
	var lb listBody
	if err := json.Unmarshal(body, &lb); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if lb.Entries == nil {
		t.Fatalf("GET ?%s: entries is not an array: %s", query, body)
	}
	return lb
}

func eventIDs(entries []map[string]any) []string {
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		id, _ := e["eventId"].(string)
		ids = append(ids, id)
	}
	return ids
}

// jsonValue is v as encoding/json decodes it into any, for comparing JSON by meaning.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

func TestNew(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	db := migratetest.SQLite(t, filepath.Join(t.TempDir(), "audit.db"), "audit", migrations.For)
	auth := httpx.RequireBearer([]httpx.Token{{Name: "alice", Secret: adminSecret}})
	tests := []struct {
		name    string
		deps    audit.Deps
		wantErr string
	}{
		{"all deps, default clock", audit.Deps{DB: db, Logger: logger, AdminAuth: auth}, ""},
		{"no db", audit.Deps{Logger: logger, AdminAuth: auth}, "DB"},
		{"no logger", audit.Deps{DB: db, AdminAuth: auth}, "Logger"},
		{"no admin auth", audit.Deps{DB: db, Logger: logger}, "AdminAuth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := audit.New(tt.deps)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New() error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() error = %v", err)
			}
			hs := m.Handlers()
			if len(hs) != 1 {
				t.Fatalf("Handlers() = %d handlers, want 1", len(hs))
			}
			got := hs[0]
			if got.Name != flagsv1.ConsumerAuditTimeline || got.Topic != flagsv1.Topic || got.Handle == nil {
				t.Fatalf("handler = {%q %q %v}, want {%q %q func}", got.Name, got.Topic, got.Handle != nil,
					flagsv1.ConsumerAuditTimeline, flagsv1.Topic)
			}
		})
	}
}

func TestDefaultClockStampsRecordedAt(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	db := migratetest.SQLite(t, filepath.Join(t.TempDir(), "audit.db"), "audit", migrations.For)
	m, err := audit.New(audit.Deps{DB: db, Logger: logger,
		AdminAuth: httpx.RequireBearer([]httpx.Token{{Name: "alice", Secret: adminSecret}})})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ev := event("e-clock", flagsv1.TypeFlagCreated, "prod", "f", "alice", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	payload, _ := json.Marshal(ev)
	msg := message.NewMessage(ev.EventID, payload)
	msg.SetContext(t.Context())
	before := time.Now().UnixMilli()
	if err := m.Handlers()[0].Handle(msg); err != nil {
		t.Fatalf("handle: %v", err)
	}
	after := time.Now().UnixMilli()
	var got int64
	if err := db.GetContext(t.Context(), &got, `SELECT recorded_at FROM audit_entries WHERE event_id = ?`, ev.EventID); err != nil {
		t.Fatalf("select recorded_at: %v", err)
	}
	if got < before || got > after {
		t.Fatalf("recorded_at = %d, want within [%d, %d]", got, before, after)
	}
}
