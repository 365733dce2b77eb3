//go:build contract

package flags_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/pact-foundation/pact-go/v2/message"
	"github.com/pact-foundation/pact-go/v2/models"
	"github.com/pact-foundation/pact-go/v2/provider"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/pacttest"
	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/modules/flags"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/migrate"
)

// eventsPactRenameEnv, set to "from=to", renames a top-level field of every payload this
// provider produces: a breaking change made without editing committed source, so that
// TestPactProviderFlagEventsBreakingChangeFails can show the pacts catch it.
const eventsPactRenameEnv = "SWITCHYARD_EVENTS_PACT_RENAME"

const (
	eventsPactFlagPath = "/api/v1/environments/development/flags/new-checkout"
	eventsPactActor    = "alice"
	eventsPactToken    = "alice-token"

	// The definitions the states and messages name.
	eventsPactDefinitionV1       = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"team":"payments"}}`
	eventsPactDefinitionTargeted = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off",
		"targeting":{"if":[{"ends_with":[{"var":"email"},"@example.com"]},"on","off"]},"metadata":{"team":"payments"}}`
)

// TestPactProviderFlagEvents verifies every pact that names the flags module as provider
// (the evaluation and audit modules' message pacts) against the events the module really
// writes: each state is set up and each change made through the module's HTTP API, and
// the message handed to the verifier is the outbox payload that change committed.
func TestPactProviderFlagEvents(t *testing.T) {
	files := pacttest.FilesFor(t, pacttest.Flags)
	p := eventsPactNewProvider(t)
	states := p.stateHandlers(t)
	messages := p.messageHandlers(t)
	pacttest.RequireHandlers(t, "provider states", pacttest.States(t, files), states)
	pacttest.RequireHandlers(t, "message descriptions", pacttest.Descriptions(t, files), messages)

	err := provider.NewVerifier().VerifyProvider(t, provider.VerifyRequest{
		Provider:             pacttest.Flags,
		PactFiles:            files,
		StateHandlers:        states,
		MessageHandlers:      messages,
		DisableColoredOutput: true,
	})
	if err != nil {
		t.Fatalf("the flags module breaks a consumer's pact (the verifier's output above says which field): %v", err)
	}
}

// TestPactProviderFlagEventsBreakingChangeFails proves the verification bites: it runs
// TestPactProviderFlagEvents in a child process whose events call flagKey "key", and
// expects the verification to fail and to name the missing field.
func TestPactProviderFlagEventsBreakingChangeFails(t *testing.T) {
	if os.Getenv(eventsPactRenameEnv) != "" {
		t.Skip("the child process of this test only verifies the pacts")
	}
	pacttest.FilesFor(t, pacttest.Flags)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPactProviderFlagEvents$", "-test.count=1", "-test.timeout=110s")
	cmd.Env = append(os.Environ(), eventsPactRenameEnv+"=flagKey=key")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the verification with a renamed field did not finish in time:\n%s", out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the verification with flagKey renamed to key passed (err %v); the pacts do not pin flagKey:\n%s", err, out)
	}

	// The verifier numbers each failure "N) Verifying a pact between <consumer> and ..." and
	// lists its mismatches under it, e.g. "$ -> Actual map is missing the following keys: flagKey".
	header := regexp.MustCompile(`^\d+\) Verifying a pact between (\S+) and ` + regexp.QuoteMeta(pacttest.Flags))
	missing := map[string]int{}
	var diff []string
	consumer := ""
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		if m := header.FindStringSubmatch(line); m != nil {
			consumer = m[1]
			diff = append(diff, line)
		}
		if strings.HasPrefix(line, "$ -> ") && strings.Contains(line, "missing") && strings.Contains(line, "flagKey") {
			missing[consumer]++
			diff = append(diff, "    "+line)
		}
	}
	for _, c := range []string{pacttest.Evaluation, pacttest.Audit} {
		if missing[c] == 0 {
			t.Errorf("the verification did not report flagKey missing from the %s pact's messages", c)
		}
	}
	if t.Failed() {
		t.Fatalf("verification output (exit %v):\n%s", exit, out)
	}
	t.Logf("renaming flagKey to key fails the verification (%v), as it must:\n%s", exit, strings.Join(diff, "\n"))
}

// eventsPactProvider is the flags module as the verifier sees it: a fresh module over a
// fresh migrated SQLite file per interaction, set up by the state handlers.
type eventsPactProvider struct {
	dir    string
	logger *slog.Logger
	rename []string // {from, to} when eventsPactRenameEnv is set

	mu       sync.Mutex
	n        int
	db       *sqlx.DB
	http     http.Handler
	dispatch *eventsPactDispatcher
}

func eventsPactNewProvider(t *testing.T) *eventsPactProvider {
	t.Helper()
	p := &eventsPactProvider{dir: t.TempDir(), logger: slog.New(slog.DiscardHandler)}
	if v := os.Getenv(eventsPactRenameEnv); v != "" {
		from, to, ok := strings.Cut(v, "=")
		if !ok || from == "" || to == "" {
			t.Fatalf("%s=%q: want from=to", eventsPactRenameEnv, v)
		}
		p.rename = []string{from, to}
	}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.closeLocked()
	})
	return p
}

// eventsPactDispatcher records the events the module hands over after commit. Nothing
// consumes them: the verifier does, from the outbox.
type eventsPactDispatcher struct {
	mu  sync.Mutex
	ids []string
}

func (d *eventsPactDispatcher) Hold() time.Duration { return time.Minute }

func (d *eventsPactDispatcher) AfterCommit(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids = append(d.ids, id)
	return nil
}

func (d *eventsPactDispatcher) dispatched() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.ids...)
}

// stateHandlers set up each provider state the pacts name, through the HTTP API. The
// verifier calls them from its own goroutine: failures are returned, never t.Fatal'd.
func (p *eventsPactProvider) stateHandlers(t *testing.T) models.StateHandlers {
	setUp := func(steps func() error) models.StateHandler {
		return func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if !setup {
				p.closeLocked()
				return nil, nil
			}
			err := p.resetLocked()
			if err == nil {
				err = steps()
			}
			if err != nil {
				t.Errorf("provider state %q: %v", s.Name, err)
			}
			return nil, err
		}
	}
	return models.StateHandlers{
		pacttest.FlagEventsStateAbsent: setUp(func() error { return nil }),
		pacttest.FlagEventsStateV1: setUp(func() error {
			_, err := p.changeLocked(http.MethodPut, eventsPactFlagPath, eventsPactDefinitionV1, "launch the new checkout", http.StatusCreated)
			return err
		}),
	}
}

// messageHandlers make, for each description, the change it names and return the event
// that change wrote to the outbox, byte for byte, with the event type in the metadata as
// the relay sets it (and the content type the verifier needs to compare JSON).
func (p *eventsPactProvider) messageHandlers(t *testing.T) message.Handlers {
	produce := func(description, method, path, body, reason string, status int) message.Handler {
		return func([]models.ProviderState) (message.Body, message.Metadata, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			payload, eventType, err := p.produceLocked(method, path, body, reason, status)
			if err != nil {
				t.Errorf("message %q: %v", description, err)
				return nil, nil, err
			}
			return payload, message.Metadata{"contentType": "application/json", flagsv1.MetadataEventType: eventType}, nil
		}
	}
	return message.Handlers{
		pacttest.FlagEventsCreated: produce(pacttest.FlagEventsCreated, http.MethodPut, eventsPactFlagPath,
			eventsPactDefinitionV1, "launch the new checkout", http.StatusCreated),
		pacttest.FlagEventsUpdated: produce(pacttest.FlagEventsUpdated, http.MethodPut, eventsPactFlagPath,
			eventsPactDefinitionTargeted, "serve off unless targeted", http.StatusOK),
		pacttest.FlagEventsDisabled: produce(pacttest.FlagEventsDisabled, http.MethodPut, eventsPactFlagPath+"/state",
			`{"state":"DISABLED"}`, "pause the rollout", http.StatusOK),
		pacttest.FlagEventsArchived: produce(pacttest.FlagEventsArchived, http.MethodDelete, eventsPactFlagPath,
			"", "retire the old checkout", http.StatusOK),
	}
}

// resetLocked replaces the module with a fresh one over a new, migrated database file.
func (p *eventsPactProvider) resetLocked() error {
	p.closeLocked()
	p.n++
	fsys, err := migrations.For("flags", "sqlite")
	if err != nil {
		return err
	}
	path := filepath.Join(p.dir, fmt.Sprintf("flags-%d.db", p.n))
	db, _, err := migrate.OpenSQLite(context.Background(), path, migrate.Set{Module: "flags", FS: fsys}, p.logger)
	if err != nil {
		return fmt.Errorf("open the flags store: %w", err)
	}
	d := &eventsPactDispatcher{}
	m, err := flags.New(flags.Deps{DB: db, Logger: p.logger, Dispatcher: d,
		AdminAuth: httpx.RequireBearer([]httpx.Token{{Name: eventsPactActor, Secret: eventsPactToken}})})
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("flags.New: %w", err)
	}
	e := httpx.NewEcho(p.logger)
	m.Routes(e.Group(""))
	p.db, p.http, p.dispatch = db, e, d
	return nil
}

func (p *eventsPactProvider) closeLocked() {
	if p.db != nil {
		_ = p.db.Close()
	}
	p.db, p.http, p.dispatch = nil, nil, nil
}

// changeLocked sends one admin request as alice with a change reason, and returns the
// ids of the events it dispatched.
func (p *eventsPactProvider) changeLocked(method, path, body, reason string, status int) ([]string, error) {
	if p.http == nil {
		return nil, errors.New("no provider state was set up: every flag-event message needs one")
	}
	before := len(p.dispatch.dispatched())
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+eventsPactToken)
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	req.Header.Set("X-Change-Reason", reason)
	rec := httptest.NewRecorder()
	p.http.ServeHTTP(rec, req)
	if rec.Code != status {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %s", method, path, rec.Code, status, rec.Body)
	}
	return p.dispatch.dispatched()[before:], nil
}

// produceLocked makes one change and returns the payload and type of the one event it
// wrote to the outbox: exactly what the relay publishes.
func (p *eventsPactProvider) produceLocked(method, path, body, reason string, status int) ([]byte, string, error) {
	ids, err := p.changeLocked(method, path, body, reason, status)
	if err != nil {
		return nil, "", err
	}
	if len(ids) != 1 {
		return nil, "", fmt.Errorf("%s %s dispatched %d events, want 1", method, path, len(ids))
	}
	const q = `SELECT payload, event_type FROM outbox WHERE event_id = ? AND topic = ?`
	var row struct {
		Payload   string `db:"payload"`
		EventType string `db:"event_type"`
	}
	if err := p.db.Get(&row, q, ids[0], flagsv1.Topic); err != nil {
		return nil, "", fmt.Errorf("read event %s from the outbox: %w", ids[0], err)
	}
	payload := []byte(row.Payload)
	if p.rename != nil {
		if payload, err = eventsPactRenameField(payload, p.rename[0], p.rename[1]); err != nil {
			return nil, "", err
		}
	}
	return payload, row.EventType, nil
}

// eventsPactRenameField renames the top-level field from of a JSON object to to.
func eventsPactRenameField(payload []byte, from, to string) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, fmt.Errorf("rename %s: %w", from, err)
	}
	v, ok := fields[from]
	if !ok {
		return nil, fmt.Errorf("rename %s: the payload has no such field: %s", from, payload)
	}
	delete(fields, from)
	fields[to] = v
	return json.Marshal(fields)
}
