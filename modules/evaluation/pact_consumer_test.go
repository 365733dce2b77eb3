//go:build contract

package evaluation_test

import (
	"bytes"
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
	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/bus/bustest"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
)

// The environment and flag the messages are about.
const (
	eventsPactEnv = "development" // the environment OFREP evaluates in
	eventsPactKey = "new-checkout"
)

// eventsPactPriorCreated is the flag_created event (version 1) that the update, state
// change and archive messages assume the projection has already applied: what
// pacttest.FlagEventsStateV1 means, as this consumer sees it.
const eventsPactPriorCreated = `{"eventId":"0196a1d2-7c00-7000-8000-0000000000a0","type":"flags.v1.flag_created",
"environment":"development","flagKey":"new-checkout","version":1,"actor":"alice","occurredAt":"2025-06-01T09:00:00Z",
"before":null,"after":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"team":"payments"}}}`

// What OFREP answers for new-checkout in each state the messages lead to. A success
// names where change notifications stream (OFREP ADR-0008).
const (
	eventsPactStreams  = `"eventStreams":[{"type":"sse","endpoint":{"requestUri":"/ofrep/v1/events"}}]`
	eventsPactServesOn = `{"key":"new-checkout","reason":"STATIC","variant":"on","value":true,"metadata":{"team":"payments"},` + eventsPactStreams + `}`
	// The update's rule serves "on" to @example.com addresses, and the test asks as one.
	eventsPactTargetedOn = `{"key":"new-checkout","reason":"TARGETING_MATCH","variant":"on","value":true,"metadata":{"team":"payments"},` + eventsPactStreams + `}`
	eventsPactIsDisabled = `{"key":"new-checkout","reason":"DISABLED","metadata":{"team":"payments"},` + eventsPactStreams + `}`
	eventsPactNotFound   = `{"key":"new-checkout","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag 'new-checkout' not found in environment 'development'"}`
)

// eventsPactEvaluationDefinition is the part of a flagd definition the projection reads
// from After: all of it, since it serves exactly that definition. The state is exact (it
// decides the reason); variant names and values, the default variant and the metadata
// are data, matched by type.
func eventsPactEvaluationDefinition(state, defaultVariant string, targeting map[string]any) map[string]any {
	def := map[string]any{
		"state":          state,
		"variants":       matchers.Like(map[string]any{"on": true, "off": false}),
		"defaultVariant": matchers.Like(defaultVariant),
		"metadata":       matchers.Like(map[string]any{"team": "payments"}),
	}
	if targeting != nil {
		def["targeting"] = matchers.Like(targeting)
	}
	return def
}

// eventsPactEvaluationEvent is a flag event as the projection reads it: the event id keys
// its inbox, type/environment/flagKey/version place the change, after is what it serves.
// It never reads actor, reason, occurredAt or before, so the pact does not pin them.
func eventsPactEvaluationEvent(eventID, eventType string, version int, after map[string]any) map[string]any {
	ev := map[string]any{
		"eventId":     matchers.Regex(eventID, pacttest.RegexUUID),
		"type":        eventType,
		"environment": matchers.Like(eventsPactEnv),
		"flagKey":     matchers.Like(eventsPactKey),
		"version":     matchers.Integer(version),
	}
	if after != nil {
		ev["after"] = after
	}
	return ev
}

type eventsPactEvaluationCase struct {
	name        string
	state       string
	description string
	content     map[string]any
	prior       []string // payloads delivered before the message: the state it assumes
	before      string   // OFREP answer for new-checkout before the message
	after       string   // and after it
}

func eventsPactEvaluationCases() []eventsPactEvaluationCase {
	rule := map[string]any{"if": []any{
		map[string]any{"ends_with": []any{map[string]any{"var": "email"}, "@example.com"}}, "on", "off",
	}}
	return []eventsPactEvaluationCase{
		{
			name: "created", state: pacttest.FlagEventsStateAbsent, description: pacttest.FlagEventsCreated,
			content: eventsPactEvaluationEvent("0196a1d2-7c00-7000-8000-000000000001", flagsv1.TypeFlagCreated, 1,
				eventsPactEvaluationDefinition(flagsv1.StateEnabled, "on", nil)),
			before: eventsPactNotFound, after: eventsPactServesOn,
		},
		{
			name: "updated", state: pacttest.FlagEventsStateV1, description: pacttest.FlagEventsUpdated,
			content: eventsPactEvaluationEvent("0196a1d2-7c00-7000-8000-000000000002", flagsv1.TypeFlagUpdated, 2,
				eventsPactEvaluationDefinition(flagsv1.StateEnabled, "off", rule)),
			prior:  []string{eventsPactPriorCreated},
			before: eventsPactServesOn, after: eventsPactTargetedOn,
		},
		{
			name: "state changed", state: pacttest.FlagEventsStateV1, description: pacttest.FlagEventsDisabled,
			content: eventsPactEvaluationEvent("0196a1d2-7c00-7000-8000-000000000003", flagsv1.TypeFlagStateChanged, 2,
				eventsPactEvaluationDefinition(flagsv1.StateDisabled, "on", nil)),
			prior:  []string{eventsPactPriorCreated},
			before: eventsPactServesOn, after: eventsPactIsDisabled,
		},
		{
			// An archive is recognised by its type alone: the projection needs no definition.
			name: "archived", state: pacttest.FlagEventsStateV1, description: pacttest.FlagEventsArchived,
			content: eventsPactEvaluationEvent("0196a1d2-7c00-7000-8000-000000000004", flagsv1.TypeFlagArchived, 2, nil),
			prior:   []string{eventsPactPriorCreated},
			before:  eventsPactServesOn, after: eventsPactNotFound,
		},
	}
}

// TestPactConsumerFlagEventsEvaluation writes the pact the evaluation module holds the
// flags module to: one message per event type its projection handles, each consumed by
// the module's real bus handler and checked through its OFREP API.
func TestPactConsumerFlagEventsEvaluation(t *testing.T) {
	pact, err := pactmessage.NewAsynchronousPact(pactmessage.Config{
		Consumer: pacttest.Evaluation,
		Provider: pacttest.Flags,
		PactDir:  pacttest.Dir(t),
	})
	if err != nil {
		t.Fatalf("new message pact: %v", err)
	}
	for _, tc := range eventsPactEvaluationCases() {
		t.Run(tc.name, func(t *testing.T) {
			c := eventsPactNewEvaluation(t)
			for _, p := range tc.prior {
				if err := c.deliver(t, []byte(p)); err != nil {
					t.Fatalf("prior event: %v", err)
				}
			}
			if err := c.expect(tc.before); err != nil {
				t.Fatalf("before the message: %v", err)
			}
			pacttest.RemovePact(t, pacttest.Evaluation, pacttest.Flags)
			// Verify reports a consumer that fails the message through t.Errorf itself.
			_ = pact.AddAsynchronousMessage().
				Given(tc.state).
				ExpectsToReceive(tc.description).
				WithJSONContent(tc.content).
				ConsumedBy(func(m pactmessage.AsynchronousMessage) error {
					if err := c.deliver(t, m.Contents); err != nil {
						return fmt.Errorf("the projection refused the message: %w", err)
					}
					if err := c.expect(tc.after); err != nil {
						return fmt.Errorf("after the message: %w", err)
					}
					return nil
				}).
				Verify(t)
		})
	}
	if t.Failed() {
		// A later message's write would carry a message that failed: leave no pact at all.
		pacttest.RemovePact(t, pacttest.Evaluation, pacttest.Flags)
	}
}

// eventsPactEvaluation is one started evaluation module over a fresh migrated SQLite file.
type eventsPactEvaluation struct {
	handler bus.Handler
	http    http.Handler
}

func eventsPactNewEvaluation(t *testing.T) *eventsPactEvaluation {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	db := migratetest.SQLite(t, filepath.Join(t.TempDir(), "evaluation.db"), "evaluation", migrations.For)
	mod, err := evaluation.New(evaluation.Deps{DB: db, Logger: logger, DefaultEnvironment: eventsPactEnv})
	if err != nil {
		t.Fatalf("evaluation.New: %v", err)
	}
	if err := mod.Start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
	e := httpx.NewEcho(logger)
	mod.Routes(e.Group(""))
	projection := bustest.Handler(t, mod.Handlers(), flagsv1.ConsumerEvaluationProjection, flagsv1.Topic)
	return &eventsPactEvaluation{handler: projection, http: e}
}

// deliver hands payload to the projection as the outbox relay does: a watermill message
// whose UUID is the event id, with the event type in its metadata.
func (c *eventsPactEvaluation) deliver(t *testing.T, payload []byte) error {
	return bustest.DeliverPayload(t.Context(), c.handler, payload)
}

// expect evaluates new-checkout over OFREP and compares the answer with want by meaning.
func (c *eventsPactEvaluation) expect(want string) error {
	req := httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags/"+eventsPactKey,
		bytes.NewReader([]byte(`{"context":{"targetingKey":"user-1","email":"ada@example.com"}}`)))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	rec := httptest.NewRecorder()
	c.http.ServeHTTP(rec, req)
	var got, exp any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		return fmt.Errorf("OFREP answered %d with a body that is not JSON: %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		return fmt.Errorf("expected answer is not JSON: %w", err)
	}
	wantStatus := http.StatusOK
	if bytes.Contains([]byte(want), []byte(`"FLAG_NOT_FOUND"`)) {
		wantStatus = http.StatusNotFound
	}
	if rec.Code != wantStatus || !reflect.DeepEqual(got, exp) {
		return fmt.Errorf("OFREP answered %d %s\nwant %d %s", rec.Code, rec.Body, wantStatus, want)
	}
	return nil
}
