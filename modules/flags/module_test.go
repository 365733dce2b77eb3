package flags_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/modules/flags"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
)

// dispatcher records what the module hands over after commit and fails when told to.
type dispatcher struct {
	mu     sync.Mutex
	events []string
	fail   error
}

func (d *dispatcher) Hold() time.Duration { return time.Minute }
func (d *dispatcher) AfterCommit(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, id)
	return d.fail
}

type harness struct {
	t        *testing.T
	db       *sqlx.DB
	dispatch *dispatcher
	handler  http.Handler
}

// eachStore runs fn once per dialect (subtests "sqlite" and "postgres"), each time over a
// fresh, migrated flags store.
func eachStore(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Helper()
	migratetest.Each(t, "flags", migrations.For, func(t *testing.T, db *sqlx.DB) {
		fn(t, newHarness(t, db))
	})
}

func newHarness(t *testing.T, db *sqlx.DB) *harness {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := &dispatcher{}
	m, err := flags.New(flags.Deps{DB: db, Logger: logger, Dispatcher: d,
		AdminAuth: httpx.RequireBearer([]httpx.Token{{Name: "alice", Secret: "alice-token"}})})
	if err != nil {
		t.Fatal(err)
	}
	e := httpx.NewEcho(logger)
	m.Routes(e.Group(""))
	return &harness{t: t, db: db, dispatch: d, handler: e}
}

// on returns h reporting to t (a subtest sharing h's store).
func (h *harness) on(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

func (h *harness) do(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer alice-token")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return v
}

type flagBody struct {
	Version        int64          `json:"version"`
	State          string         `json:"state"`
	DefaultVariant *string        `json:"defaultVariant"`
	Variants       map[string]any `json:"variants"`
	Archived       bool           `json:"archived"`
	UpdatedBy      string         `json:"updatedBy"`
	ChangeReason   string         `json:"changeReason"`
	Metadata       map[string]any `json:"metadata"`
}

// outboxEvents returns the events in the outbox, oldest first.
func (h *harness) outboxEvents() []flagsv1.FlagChanged {
	h.t.Helper()
	var payloads []string
	if err := h.db.Select(&payloads, `SELECT payload FROM outbox ORDER BY id`); err != nil {
		h.t.Fatal(err)
	}
	events := make([]flagsv1.FlagChanged, len(payloads))
	for i, p := range payloads {
		if err := json.Unmarshal([]byte(p), &events[i]); err != nil {
			h.t.Fatal(err)
		}
	}
	return events
}

const path = "/api/v1/environments/staging/flags/checkout"

func TestLifecycleVersionsEveryChangeAndWritesItsEvent(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		def := `{"state":"ENABLED","variants":{"a":"x","b":"y"},"defaultVariant":"a","metadata":{"team":"pay"}}`

		steps := []struct {
			name, method, path, body string
			headers                  []string
			status                   int
			version                  int64
			event                    string // event type written, "" for none
		}{
			{"create", http.MethodPut, path, def, []string{"X-Change-Reason", "new"}, 201, 1, flagsv1.TypeFlagCreated},
			{"identical put is a no-op", http.MethodPut, path, def, nil, 200, 1, ""},
			{"replace with If-Match", http.MethodPut, path, strings.Replace(def, `"a","metadata"`, `"b","metadata"`, 1), []string{"If-Match", `"1"`}, 200, 2, flagsv1.TypeFlagUpdated},
			{"disable", http.MethodPut, path + "/state", `{"state":"DISABLED"}`, nil, 200, 3, flagsv1.TypeFlagStateChanged},
			{"disable again is a no-op", http.MethodPut, path + "/state", `{"state":"DISABLED"}`, nil, 200, 3, ""},
			{"archive", http.MethodDelete, path, "", nil, 200, 4, flagsv1.TypeFlagArchived},
			{"archive again is a no-op", http.MethodDelete, path, "", nil, 200, 4, ""},
			{"If-Match * refuses an archived flag", http.MethodPut, path, def, []string{"If-Match", "*"}, 412, 0, ""},
			{"restore", http.MethodPut, path, def, nil, 201, 5, flagsv1.TypeFlagCreated},
		}
		var wantEvents []string
		for _, st := range steps {
			rec := h.do(st.method, st.path, st.body, st.headers...)
			if rec.Code != st.status {
				t.Fatalf("%s: status %d, want %d: %s", st.name, rec.Code, st.status, rec.Body)
			}
			if st.version > 0 {
				if got := decode[flagBody](t, rec).Version; got != st.version {
					t.Fatalf("%s: version %d, want %d", st.name, got, st.version)
				}
			}
			if st.event != "" {
				wantEvents = append(wantEvents, st.event)
			}
			events := h.outboxEvents()
			if len(events) != len(wantEvents) || len(h.dispatch.events) != len(wantEvents) {
				t.Fatalf("%s: %d events in the outbox, %d dispatched; want %d", st.name, len(events), len(h.dispatch.events), len(wantEvents))
			}
		}

		events := h.outboxEvents()
		for i, e := range events {
			if e.Type != wantEvents[i] || e.Version != int64(i+1) || e.Actor != "alice" || e.Environment != "staging" || e.FlagKey != "checkout" || e.EventID == "" {
				t.Fatalf("event %d: %+v", i, e)
			}
			if h.dispatch.events[i] != e.EventID {
				t.Fatalf("dispatched %s, outbox has %s", h.dispatch.events[i], e.EventID)
			}
		}
		if events[0].Reason != "new" || events[0].Before != nil || events[0].After == nil {
			t.Fatalf("created event: %+v", events[0])
		}
		if *events[1].Before.DefaultVariant != "a" || *events[1].After.DefaultVariant != "b" {
			t.Fatalf("updated event before/after: %+v", events[1])
		}
		if events[2].Before.State != "ENABLED" || events[2].After.State != "DISABLED" {
			t.Fatalf("state event before/after: %+v", events[2])
		}
		if events[3].After != nil || events[3].Before == nil {
			t.Fatalf("archived event must carry no After: %+v", events[3])
		}
		if events[4].Before != nil || events[4].After.State != "ENABLED" {
			t.Fatalf("restore event: %+v", events[4])
		}
	})
}

func TestArchivedFlagsLeaveReadsButKeepHistory(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		for _, key := range []string{"a", "b", "c"} {
			h.do(http.MethodPut, "/api/v1/environments/dev/flags/"+key, `{"state":"ENABLED","variants":{"on":true}}`)
		}
		h.do(http.MethodDelete, "/api/v1/environments/dev/flags/b", "")

		if rec := h.do(http.MethodGet, "/api/v1/environments/dev/flags/b", ""); rec.Code != 404 || !strings.Contains(rec.Body.String(), "archived (version 2)") {
			t.Fatalf("GET archived: %d %s", rec.Code, rec.Body)
		}
		type page struct {
			Flags []struct {
				Key      string `json:"key"`
				Archived bool   `json:"archived"`
			} `json:"flags"`
			NextCursor string `json:"nextCursor"`
		}
		keys := func(p page) (s []string) {
			for _, f := range p.Flags {
				s = append(s, f.Key)
			}
			return s
		}
		if got := keys(decode[page](t, h.do(http.MethodGet, "/api/v1/environments/dev/flags", ""))); strings.Join(got, ",") != "a,c" {
			t.Fatalf("list = %v, want a,c", got)
		}
		// Paging one by one, including archived flags, visits every flag exactly once.
		var all []string
		next := "/api/v1/environments/dev/flags?limit=1&archived=true"
		for next != "" {
			p := decode[page](t, h.do(http.MethodGet, next, ""))
			all = append(all, keys(p)...)
			next = ""
			if p.NextCursor != "" {
				next = "/api/v1/environments/dev/flags?limit=1&archived=true&cursor=" + p.NextCursor
			}
		}
		if strings.Join(all, ",") != "a,b,c" {
			t.Fatalf("paged = %v, want a,b,c", all)
		}
		var history int
		if err := h.db.Get(&history, `SELECT COUNT(*) FROM flag_versions WHERE flag_key = 'b'`); err != nil || history != 2 {
			t.Fatalf("history rows of b = %d, %v; want 2", history, err)
		}
	})
}

// TestConcurrentChangesOfOneFlagEachGetTheirOwnVersion: writers racing on one flag are
// serialized (BEGIN IMMEDIATE on SQLite, the rows the change is decided on locked FOR
// UPDATE on PostgreSQL), so none fails and versions are 1..n without a gap or a repeat.
func TestConcurrentChangesOfOneFlagEachGetTheirOwnVersion(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		if rec := h.do(http.MethodPut, path, `{"state":"ENABLED","variants":{"v0":0},"defaultVariant":"v0"}`); rec.Code != 201 {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		const writers = 8
		codes := make([]int, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				body := fmt.Sprintf(`{"state":"ENABLED","variants":{"v%d":%d},"defaultVariant":"v%d"}`, i+1, i+1, i+1)
				req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer alice-token")
				rec := httptest.NewRecorder()
				h.handler.ServeHTTP(rec, req)
				codes[i] = rec.Code
			})
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Errorf("writer %d: status %d, want 200", i, c)
			}
		}
		var versions []int64
		if err := h.db.Select(&versions, `SELECT version FROM flag_versions ORDER BY version`); err != nil {
			t.Fatal(err)
		}
		if len(versions) != writers+1 || versions[writers] != writers+1 {
			t.Fatalf("history versions %v, want 1..%d", versions, writers+1)
		}
		if got := decode[flagBody](t, h.do(http.MethodGet, path, "")).Version; got != writers+1 {
			t.Fatalf("current version %d, want %d", got, writers+1)
		}
		if n := len(h.outboxEvents()); n != writers+1 {
			t.Fatalf("outbox has %d events, want %d", n, writers+1)
		}
	})
}

// TestConcurrentFirstWritesInANewEnvironmentConflictCleanly races writers creating the
// same flag in an environment that does not exist yet, so there is no row to lock: each
// gets a created, an updated or a 409 to retry, never a 500, and the history has no gap.
func TestConcurrentFirstWritesInANewEnvironmentConflictCleanly(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		const writers = 8
		codes := make([]int, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				body := fmt.Sprintf(`{"state":"ENABLED","variants":{"v%d":%d},"defaultVariant":"v%d"}`, i, i, i)
				req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer alice-token")
				rec := httptest.NewRecorder()
				h.handler.ServeHTTP(rec, req)
				codes[i] = rec.Code
			})
		}
		wg.Wait()
		created, written := 0, 0
		for i, c := range codes {
			switch c {
			case http.StatusCreated:
				created++
				written++
			case http.StatusOK:
				written++
			case http.StatusConflict:
			default:
				t.Errorf("writer %d: status %d, want 201, 200 or 409", i, c)
			}
		}
		if created != 1 {
			t.Fatalf("%d writers created the flag, want exactly 1 (codes %v)", created, codes)
		}
		var versions []int64
		if err := h.db.Select(&versions, `SELECT version FROM flag_versions ORDER BY version`); err != nil {
			t.Fatal(err)
		}
		if len(versions) != written || versions[len(versions)-1] != int64(written) {
			t.Fatalf("history versions %v for %d acknowledged writes (codes %v)", versions, written, codes)
		}
		if n := len(h.outboxEvents()); n != written {
			t.Fatalf("outbox has %d events for %d acknowledged writes", n, written)
		}
	})
}

// TestCommittedButUndeliverableSaysSo covers a delivery that fails before any consumer
// ran (the outbox could not be read back, say): the answer still says the change is
// committed, without naming consumers it never reached.
func TestCommittedButUndeliverableSaysSo(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.dispatch.fail = errors.New("database unavailable")
		rec := h.do(http.MethodPut, path, `{"state":"ENABLED","variants":{"on":true}}`)
		p := decode[map[string]any](t, rec)
		detail, _ := p["detail"].(string)
		if rec.Code != http.StatusServiceUnavailable || p["committed"] != true ||
			detail != "the change is committed at version 1, but its delivery could not be attempted yet; the outbox keeps it and will deliver it" {
			t.Fatalf("%d %v", rec.Code, p)
		}
	})
}

func TestCommittedButNotVisibleIsToldTruthfully(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.dispatch.fail = errors.Join(&bus.HandlerError{Handler: "evaluation.flag-projection", Err: errors.New("disk full")})
		rec := h.do(http.MethodPut, path, `{"state":"ENABLED","variants":{"on":true}}`)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("ETag") != `"1"` {
			t.Fatalf("status %d ETag %q: %s", rec.Code, rec.Header().Get("ETag"), rec.Body)
		}
		p := decode[map[string]any](t, rec)
		if p["committed"] != true || p["version"] != 1.0 || !strings.Contains(p["detail"].(string), "evaluation.flag-projection") {
			t.Fatalf("problem = %v", p)
		}
		// The change is committed: reading it back works, and its event waits in the outbox.
		if rec := h.do(http.MethodGet, path, ""); rec.Code != 200 {
			t.Fatalf("GET after committed-not-visible: %d", rec.Code)
		}
		if n := len(h.outboxEvents()); n != 1 {
			t.Fatalf("outbox has %d events, want 1", n)
		}
	})
}

func TestSeedIfEmptyLoadsAFlagFileOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		m, err := flags.New(flags.Deps{DB: h.db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Dispatcher: h.dispatch,
			AdminAuth: httpx.RequireBearer(nil)})
		if err != nil {
			t.Fatal(err)
		}
		file := []byte(`{"$schema":"https://flagd.dev/schema/v0/flags.json","flags":{
		"one":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"},
		"two":{"state":"DISABLED","variants":{"a":"x"},"defaultVariant":"a"}}}`)
		ctx := context.Background()
		if n, err := m.SeedIfEmpty(ctx, "dev", file, "seed", "seed file"); err != nil || n != 2 {
			t.Fatalf("first seed: %d, %v", n, err)
		}
		if n, err := m.SeedIfEmpty(ctx, "dev", file, "seed", "seed file"); err != nil || n != 0 {
			t.Fatalf("second seed: %d, %v; want 0 (environment already has flags)", n, err)
		}
		bad := []struct{ name, file, want string }{
			{"not json", `{`, "malformed JSON"},
			{"no flags", `{"flags":{}}`, "defines no flags"},
			{"invalid flag", `{"flags":{"x":{"state":"ON","variants":{"a":1}}}}`, `flag "x"`},
			{"unknown field", `{"flagz":{}}`, "unknown field"},
		}
		for _, b := range bad {
			if _, err := m.SeedIfEmpty(ctx, "other", []byte(b.file), "seed", "r"); err == nil || !strings.Contains(err.Error(), b.want) {
				t.Errorf("%s: err %v, want it to mention %q", b.name, err, b.want)
			}
		}
	})
}
