//go:build contract

package audit_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/pact-foundation/pact-go/v2/matchers"
	pactmessage "github.com/pact-foundation/pact-go/v2/message/v4"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/pacttest"
	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/modules/audit"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/bus/bustest"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
)

// eventsPactToken is the admin token the timeline is read with.
const eventsPactToken = "audit-admin-token"

// eventsPactPriorCreated is the flag_created event (version 1) that the update, state
// change and archive messages follow: what pacttest.FlagEventsStateV1 means, as this consumer sees it.
const eventsPactPriorCreated = `{"eventId":"0196a1d2-7c00-7000-8000-0000000000a0","type":"flags.v1.flag_created",
"environment":"development","flagKey":"new-checkout","version":1,"actor":"alice","reason":"launch the new checkout",
"occurredAt":"2025-06-01T09:00:00Z","before":null,
"after":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"team":"payments"}}}`

// The flag's definitions, as examples: the timeline keeps a definition as the event
// carried it, so it relies on before and after being JSON objects (or null), not on
// their values.
func eventsPactDefinitionV1(state string) map[string]any {
	return map[string]any{
		"state":          state,
		"variants":       map[string]any{"on": true, "off": false},
		"defaultVariant": "on",
		"metadata":       map[string]any{"team": "payments"},
	}
}

func eventsPactDefinitionTargeted() map[string]any {
	def := eventsPactDefinitionV1(flagsv1.StateEnabled)
	def["defaultVariant"] = "off"
	def["targeting"] = map[string]any{"if": []any{
		map[string]any{"ends_with": []any{map[string]any{"var": "email"}, "@example.com"}}, "on", "off",
	}}
	return def
}

// eventsPactAuditEvent is a flag event as the timeline reads it: every field. The type is
// exact (it names the entry's action); before and after are exactly null where the
// timeline must record no definition, and any definition object otherwise.
func eventsPactAuditEvent(eventID, eventType string, version int, reason, occurredAt string, before, after map[string]any) map[string]any {
	definition := func(d map[string]any) any {
		if d == nil {
			return nil
		}
		return matchers.Like(d)
	}
	return map[string]any{
		"eventId":     matchers.Regex(eventID, pacttest.RegexUUID),
		"type":        eventType,
		"environment": matchers.Like("development"),
		"flagKey":     matchers.Like("new-checkout"),
		"version":     matchers.Integer(version),
		"actor":       matchers.Like("alice"),
		"reason":      matchers.Like(reason),
		"occurredAt":  matchers.Regex(occurredAt, pacttest.RegexRFC3339),
		"before":      definition(before),
		"after":       definition(after),
	}
}

type eventsPactAuditCase struct {
	name        string
	state       string
	description string
	content     map[string]any
	prior       []string // payloads recorded before the message: the state it assumes
	want        string   // the newest entry of GET /api/v1/audit after the message
}

func eventsPactAuditCases() []eventsPactAuditCase {
	v1, disabled, targeted := eventsPactDefinitionV1(flagsv1.StateEnabled), eventsPactDefinitionV1(flagsv1.StateDisabled), eventsPactDefinitionTargeted()
	const (
		v1JSON       = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"team":"payments"}}`
		disabledJSON = `{"state":"DISABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"team":"payments"}}`
		targetedJSON = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","metadata":{"team":"payments"},
			"targeting":{"if":[{"ends_with":[{"var":"email"},"@example.com"]},"on","off"]}}`
	)
	return []eventsPactAuditCase{
		{
			name: "created", state: pacttest.FlagEventsStateAbsent, description: pacttest.FlagEventsCreated,
			content: eventsPactAuditEvent("0196a1d2-7c00-7000-8000-000000000001", flagsv1.TypeFlagCreated, 1,
				"launch the new checkout", "2025-06-01T09:30:00.123Z", nil, v1),
			want: `{"eventId":"0196a1d2-7c00-7000-8000-000000000001","occurredAt":"2025-06-01T09:30:00.123Z","actor":"alice",
				"action":"flag.created","environment":"development","flag":"new-checkout","version":1,
				"reason":"launch the new checkout","before":null,"after":` + v1JSON + `}`,
		},
		{
			name: "updated", state: pacttest.FlagEventsStateV1, description: pacttest.FlagEventsUpdated,
			content: eventsPactAuditEvent("0196a1d2-7c00-7000-8000-000000000002", flagsv1.TypeFlagUpdated, 2,
				"serve off unless targeted", "2025-06-01T09:30:00.123Z", v1, targeted),
			prior: []string{eventsPactPriorCreated},
			want: `{"eventId":"0196a1d2-7c00-7000-8000-000000000002","occurredAt":"2025-06-01T09:30:00.123Z","actor":"alice",
				"action":"flag.updated","environment":"development","flag":"new-checkout","version":2,
				"reason":"serve off unless targeted","before":` + v1JSON + `,"after":` + targetedJSON + `}`,
		},
		{
			name: "state changed", state: pacttest.FlagEventsStateV1, description: pacttest.FlagEventsDisabled,
			content: eventsPactAuditEvent("0196a1d2-7c00-7000-8000-000000000003", flagsv1.TypeFlagStateChanged, 2,
				"pause the rollout", "2025-06-01T09:30:00.123Z", v1, disabled),
			prior: []string{eventsPactPriorCreated},
			want: `{"eventId":"0196a1d2-7c00-7000-8000-000000000003","occurredAt":"2025-06-01T09:30:00.123Z","actor":"alice",
				"action":"flag.state_changed","environment":"development","flag":"new-checkout","version":2,
				"reason":"pause the rollout","before":` + v1JSON + `,"after":` + disabledJSON + `}`,
		},
		{
			name: "archived", state: pacttest.FlagEventsStateV1, description: pacttest.FlagEventsArchived,
			content: eventsPactAuditEvent("0196a1d2-7c00-7000-8000-000000000004", flagsv1.TypeFlagArchived, 2,
				"retire the old checkout", "2025-06-01T09:30:00.123Z", v1, nil),
			prior: []string{eventsPactPriorCreated},
			want: `{"eventId":"0196a1d2-7c00-7000-8000-000000000004","occurredAt":"2025-06-01T09:30:00.123Z","actor":"alice",
				"action":"flag.archived","environment":"development","flag":"new-checkout","version":2,
				"reason":"retire the old checkout","before":` + v1JSON + `,"after":null}`,
		},
	}
}

// TestPactConsumerFlagEventsAudit writes the pact the audit module holds the flags module
// to: one message per flag event type, each consumed by the module's real bus handler and
// checked through GET /api/v1/audit.
func TestPactConsumerFlagEventsAudit(t *testing.T) {
	pact, err := pactmessage.NewAsynchronousPact(pactmessage.Config{
		Consumer: pacttest.Audit,
		Provider: pacttest.Flags,
		PactDir:  pacttest.Dir(t),
	})
	if err != nil {
		t.Fatalf("new message pact: %v", err)
	}
	for _, tc := range eventsPactAuditCases() {
		t.Run(tc.name, func(t *testing.T) {
			c := eventsPactNewAudit(t)
			for _, p := range tc.prior {
				if err := c.deliver(t, []byte(p)); err != nil {
					t.Fatalf("prior event: %v", err)
				}
			}
			if got, err := c.timeline(); err != nil || len(got) != len(tc.prior) {
				t.Fatalf("before the message the timeline has %d entries (%v), want %d", len(got), err, len(tc.prior))
			}
			pacttest.RemovePact(t, pacttest.Audit, pacttest.Flags)
			// Verify reports a consumer that fails the message through t.Errorf itself.
			_ = pact.AddAsynchronousMessage().
				Given(tc.state).
				ExpectsToReceive(tc.description).
				WithJSONContent(tc.content).
				ConsumedBy(func(m pactmessage.AsynchronousMessage) error {
					if err := c.deliver(t, m.Contents); err != nil {
						return fmt.Errorf("the timeline refused the message: %w", err)
					}
					return c.expectNewest(tc.want, len(tc.prior)+1)
				}).
				Verify(t)
		})
	}
	if t.Failed() {
		// A later message's write would carry a message that failed: leave no pact at all.
		pacttest.RemovePact(t, pacttest.Audit, pacttest.Flags)
	}
}

// eventsPactAudit is one audit module over a fresh migrated SQLite file.
type eventsPactAudit struct {
	handler bus.Handler
	http    http.Handler
}

func eventsPactNewAudit(t *testing.T) *eventsPactAudit {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	db := migratetest.SQLite(t, filepath.Join(t.TempDir(), "audit.db"), "audit", migrations.For)
	mod, err := audit.New(audit.Deps{DB: db, Logger: logger,
		AdminAuth: httpx.RequireBearer([]httpx.Token{{Name: "auditor", Secret: eventsPactToken}})})
	if err != nil {
		t.Fatalf("audit.New: %v", err)
	}
	e := httpx.NewEcho(logger)
	mod.Routes(e.Group(""))
	timeline := bustest.Handler(t, mod.Handlers(), flagsv1.ConsumerAuditTimeline, flagsv1.Topic)
	return &eventsPactAudit{handler: timeline, http: e}
}

// deliver hands payload to the timeline as the outbox relay does: a watermill message
// whose UUID is the event id, with the event type in its metadata.
func (c *eventsPactAudit) deliver(t *testing.T, payload []byte) error {
	return bustest.DeliverPayload(t.Context(), c.handler, payload)
}

// timeline returns the entries of GET /api/v1/audit, newest first, decoded as JSON values.
func (c *eventsPactAudit) timeline() ([]any, error) {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/audit?environment=development&flag=new-checkout", nil)
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+eventsPactToken)
	rec := httptest.NewRecorder()
	c.http.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/audit: %d %s", rec.Code, rec.Body)
	}
	var body struct {
		Entries []any `json:"entries"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		return nil, fmt.Errorf("GET /api/v1/audit: %w: %s", err, rec.Body)
	}
	return body.Entries, nil
}

// expectNewest checks that the timeline holds n entries and that the newest is want.
func (c *eventsPactAudit) expectNewest(want string, n int) error {
	entries, err := c.timeline()
	if err != nil {
		return err
	}
	if len(entries) != n {
		return fmt.Errorf("the timeline has %d entries, want %d: %v", len(entries), n, entries)
	}
	var exp any
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		return fmt.Errorf("expected entry is not JSON: %w", err)
	}
	if !reflect.DeepEqual(entries[0], exp) {
		got, _ := json.Marshal(entries[0])
		canonical, _ := json.Marshal(exp)
		return fmt.Errorf("newest entry\n  %s\nwant\n  %s", got, canonical)
	}
	return nil
}
