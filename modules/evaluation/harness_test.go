package evaluation_test

import (
	"context"
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
	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/outbox"
	"github.com/switchyardhq/switchyard/platform/storage"
)

const env = "development"

var fixedNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openDB opens (and migrates) the evaluation database at path.
func openDB(tb testing.TB, path string) *sqlx.DB {
	tb.Helper()
	return migratetest.SQLite(tb, path, "evaluation", migrations.For)
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

// harness is one evaluation module over a real database (a SQLite file or a PostgreSQL
// schema), served through echo.
type harness struct {
	tb      testing.TB
	dialect storage.Dialect
	path    string
	db      *sqlx.DB
	mod     *evaluation.Module
	e       *echo.Echo
	handler bus.Handler
	opts    []depsOption
}

// depsOption adjusts the module's dependencies before it is built.
type depsOption func(*evaluation.Deps)

// newHarness builds a module over a fresh SQLite file without starting it.
func newHarness(tb testing.TB) *harness {
	tb.Helper()
	return newHarnessOn(tb, storage.SQLite)
}

// newHarnessOn builds a module over a fresh store in dialect d without starting it.
func newHarnessOn(tb testing.TB, d storage.Dialect, opts ...depsOption) *harness {
	tb.Helper()
	return newHarnessAt(tb, d, filepath.Join(tb.TempDir(), "evaluation.db"), opts...)
}

// reopen builds another module over h's store, as a restarted process would, without starting it.
func (h *harness) reopen() *harness {
	h.tb.Helper()
	return newHarnessAt(h.tb, h.dialect, h.path, h.opts...)
}

// newHarnessAt builds a module over the store at path in dialect d without starting it.
func newHarnessAt(tb testing.TB, d storage.Dialect, path string, opts ...depsOption) *harness {
	tb.Helper()
	db := migratetest.Open(tb, d, path, "evaluation", migrations.For)
	deps := evaluation.Deps{DB: db, Logger: discardLogger(), DefaultEnvironment: env, Now: func() time.Time { return fixedNow }}
	for _, opt := range opts {
		opt(&deps)
	}
	mod, err := evaluation.New(deps)
	if err != nil {
		tb.Fatalf("new module: %v", err)
	}
	e := httpx.NewEcho(discardLogger())
	mod.Routes(e.Group(""))
	handlers := mod.Handlers()
	if len(handlers) != 1 {
		tb.Fatalf("Handlers() returned %d handlers, want 1", len(handlers))
	}
	return &harness{tb: tb, dialect: d, path: path, db: db, mod: mod, e: e, handler: handlers[0], opts: opts}
}

// started builds and starts a module over a fresh SQLite file.
func started(tb testing.TB) *harness {
	tb.Helper()
	return startedOn(tb, storage.SQLite)
}

// startedOn builds and starts a module over a fresh store in dialect d.
func startedOn(tb testing.TB, d storage.Dialect, opts ...depsOption) *harness {
	tb.Helper()
	h := newHarnessOn(tb, d, opts...)
	h.start()
	return h
}

func (h *harness) start() {
	h.tb.Helper()
	if err := h.mod.Start(context.Background()); err != nil {
		h.tb.Fatalf("start: %v", err)
	}
	if err := h.mod.Ready(); err != nil {
		h.tb.Fatalf("ready after start: %v", err)
	}
}

// deliver hands ev to the projection as the bus would: a watermill message with a JSON payload.
func (h *harness) deliver(ev flagsv1.FlagChanged) error {
	return h.handler.Handle(eventMessage(h.tb, ev))
}

// eventMessage wraps ev the way the outbox relay does.
func eventMessage(tb testing.TB, ev flagsv1.FlagChanged) *message.Message {
	payload, err := json.Marshal(ev)
	if err != nil {
		tb.Errorf("encode event: %v", err)
	}
	return outbox.NewMessage(ev.EventID, ev.Type, payload)
}

func (h *harness) mustDeliver(evs ...flagsv1.FlagChanged) {
	h.tb.Helper()
	for _, ev := range evs {
		if err := h.deliver(ev); err != nil {
			h.tb.Fatalf("deliver %s: %v", ev.EventID, err)
		}
	}
}

// post sends a POST with body and headers (name, value pairs) through echo.
func (h *harness) post(path, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, req)
	return rec
}

func (h *harness) evaluate(key, body string) *httptest.ResponseRecorder {
	return h.post("/ofrep/v1/evaluate/flags/"+key, body)
}

func (h *harness) bulk(body string, headers ...string) *httptest.ResponseRecorder {
	return h.post("/ofrep/v1/evaluate/flags", body, headers...)
}

// revision reads the environment's persisted revision (0 when it has none).
func (h *harness) revision(environment string) int64 {
	h.tb.Helper()
	var rev int64
	const q = `SELECT COALESCE((SELECT revision FROM evaluation_environments WHERE name = ?), 0)`
	err := h.db.Get(&rev, h.db.Rebind(q), environment)
	if err != nil {
		h.tb.Fatalf("read revision: %v", err)
	}
	return rev
}

// event builds a FlagChanged; after is a flagd definition in JSON, "" for none.
func event(tb testing.TB, id, typ, environment, key string, version int64, after string) flagsv1.FlagChanged {
	tb.Helper()
	ev := flagsv1.FlagChanged{
		EventID: id, Type: typ, Environment: environment, FlagKey: key, Version: version,
		Actor: "test", OccurredAt: fixedNow,
	}
	if after != "" {
		var def flagsv1.Definition
		if err := json.Unmarshal([]byte(after), &def); err != nil {
			tb.Fatalf("definition of %s: %v", key, err)
		}
		ev.After = &def
	}
	return ev
}

func created(tb testing.TB, id, key string, version int64, def string) flagsv1.FlagChanged {
	tb.Helper()
	return event(tb, id, flagsv1.TypeFlagCreated, env, key, version, def)
}

func archived(tb testing.TB, id, key string, version int64) flagsv1.FlagChanged {
	tb.Helper()
	return event(tb, id, flagsv1.TypeFlagArchived, env, key, version, "")
}

// eventStreams is what every successful evaluation (single or bulk) ends with: where to
// listen for changes (OFREP ADR-0008), relative to the server's origin.
const eventStreams = `"eventStreams":[{"type":"sse","endpoint":{"requestUri":"/ofrep/v1/events"}}]`

// withoutEventStreams returns a response body without the eventStreams member that ends
// every success, so that evaluations compare as they would be without it.
func withoutEventStreams(body string) string {
	body = strings.TrimSpace(body)
	if stripped, found := strings.CutSuffix(body, ","+eventStreams+"}"); found {
		return stripped + "}"
	}
	return body
}

// assertResponse checks a response's status and body. A 200's body must end with the
// eventStreams member, which body leaves out: body is the evaluation as it would be
// without it.
func assertResponse(tb testing.TB, rec *httptest.ResponseRecorder, status int, body string) {
	tb.Helper()
	if rec.Code != status {
		tb.Fatalf("status = %d, want %d (body %s)", rec.Code, status, rec.Body.String())
	}
	got := strings.TrimSpace(rec.Body.String())
	if status == http.StatusOK {
		stripped, found := strings.CutSuffix(got, ","+eventStreams+"}")
		if !found {
			tb.Fatalf("200 body does not end with the event streams:\n  %s\nwant the suffix\n  ,%s}", got, eventStreams)
		}
		got = stripped + "}"
	}
	if got != body {
		tb.Fatalf("body =\n  %s\nwant\n  %s", got, body)
	}
	if status != http.StatusNotModified {
		if ct := rec.Header().Get(echo.HeaderContentType); ct != echo.MIMEApplicationJSON {
			tb.Fatalf("Content-Type = %q, want %q", ct, echo.MIMEApplicationJSON)
		}
	}
}

const boolFlag = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`
