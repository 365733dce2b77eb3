//go:build contract

package httppush_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pact-foundation/pact-go/v2/consumer"
	"github.com/pact-foundation/pact-go/v2/matchers"
	"github.com/pact-foundation/pact-go/v2/models"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/pacttest"
	"github.com/switchyardhq/switchyard/platform/breaker"
	"github.com/switchyardhq/switchyard/platform/bus/httppush"
	"github.com/switchyardhq/switchyard/platform/outbox"
)

// Provider states of the push pact; the evaluation module's provider test sets them up.
const (
	pushStateNoFlag       = "no flag 'pushed-flag' exists"
	pushStateFlagAtV1     = "the flag 'pushed-flag' exists at version 1"
	pushStateApplied      = "the pushed event was already applied"
	pushStateStoreFailing = "the evaluation store cannot apply events"
)

const (
	pushPactToken   = "push-token-example-0123456789"
	pushPactEventID = "01966b3e-7c1a-7000-8000-00000000beef"
)

// pushEvent is a real flag event as the flags module's outbox holds it.
func pushEvent(eventType string, version int64, before *flagsv1.Definition) flagsv1.FlagChanged {
	on := "on"
	return flagsv1.FlagChanged{
		EventID: pushPactEventID, Type: eventType, Environment: "development", FlagKey: "pushed-flag",
		Version: version, Actor: "alice", Reason: "launch", OccurredAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
		Before: before,
		After: &flagsv1.Definition{State: "ENABLED", DefaultVariant: &on,
			Variants: map[string]json.RawMessage{"on": json.RawMessage(`true`), "off": json.RawMessage(`false`)}},
	}
}

// pushBody is what the read side relies on in a pushed event: the fields its projection
// reads, pinned by type; the event type and key exactly.
func pushBody(ev flagsv1.FlagChanged) map[string]any {
	var before any
	if ev.Before != nil {
		before = matchers.Like(map[string]any{"state": "ENABLED", "variants": map[string]any{"on": true, "off": false}, "defaultVariant": "on"})
	}
	return map[string]any{
		"eventId":     matchers.Regex(ev.EventID, pacttest.RegexUUID),
		"type":        matchers.S(ev.Type),
		"environment": matchers.S(ev.Environment),
		"flagKey":     matchers.S(ev.FlagKey),
		"version":     matchers.Integer(int(ev.Version)),
		"actor":       matchers.Like(ev.Actor),
		"reason":      matchers.Like(ev.Reason),
		"occurredAt":  matchers.Regex(ev.OccurredAt.Format(time.RFC3339), pacttest.RegexRFC3339),
		"before":      before,
		"after": map[string]any{
			"state":          matchers.S("ENABLED"),
			"variants":       matchers.Like(map[string]any{"on": true, "off": false}),
			"defaultVariant": matchers.Like("on"),
		},
	}
}

func TestPactConsumerPushToEvaluation(t *testing.T) {
	pacttest.RemovePact(t, pacttest.Flags, pacttest.Evaluation)
	mock, err := consumer.NewV4Pact(consumer.MockHTTPProviderConfig{
		Consumer: pacttest.Flags, Provider: pacttest.Evaluation, PactDir: pacttest.Dir(t), LogDir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("new pact: %v", err)
	}
	created := pushEvent(flagsv1.TypeFlagCreated, 1, nil)
	updated := pushEvent(flagsv1.TypeFlagUpdated, 2, created.After)
	tests := []struct {
		state, description string
		params             map[string]any
		event              flagsv1.FlagChanged
		status             int
		response           consumer.V4ResponseBuilderFunc
		check              func(error) error
	}{
		{pushStateNoFlag, "a pushed flag_created event", nil, created, http.StatusNoContent, nil, applied},
		{pushStateFlagAtV1, "a pushed flag_updated event", nil, updated, http.StatusNoContent, nil, applied},
		{pushStateApplied, "a pushed event the read side already applied", map[string]any{"eventId": pushPactEventID},
			created, http.StatusNoContent, nil, applied},
		{pushStateStoreFailing, "a pushed event the read side cannot apply", nil, created, http.StatusServiceUnavailable,
			func(b *consumer.V4ResponseBuilder) {
				b.Header("Content-Type", matchers.S("application/problem+json")).JSONBody(map[string]any{
					"type": matchers.S(httppush.ProblemNotApplied), "status": matchers.Integer(503),
					"detail": matchers.Like("consumers evaluation.flag-projection could not apply the event; retry later"),
				})
			},
			func(err error) error {
				var se *httppush.StatusError
				if !errors.As(err, &se) || se.Code != http.StatusServiceUnavailable || !breaker.Transient(err) {
					return fmt.Errorf("push = %v, want a 503 that counts towards the breaker", err)
				}
				return nil
			}},
	}
	for _, tc := range tests {
		t.Run(tc.description, func(t *testing.T) {
			payload, err := json.Marshal(tc.event)
			if err != nil {
				t.Fatal(err)
			}
			err = mock.AddInteraction().
				GivenWithParameter(models.ProviderState{Name: tc.state, Parameters: tc.params}).
				UponReceiving(tc.description).
				WithRequest(http.MethodPost, httppush.Path(flagsv1.Topic), func(b *consumer.V4RequestBuilder) {
					b.Header("Authorization", matchers.Regex("Bearer "+pushPactToken, `^Bearer \S{16,}$`)).
						Header("Content-Type", matchers.S("application/json")).
						Header(httppush.HeaderEventID, matchers.Regex(tc.event.EventID, pacttest.RegexUUID)).
						Header(httppush.HeaderEventType, matchers.S(tc.event.Type)).
						JSONBody(pushBody(tc.event))
				}).
				WillRespondWith(tc.status, func(b *consumer.V4ResponseBuilder) {
					if tc.response != nil {
						tc.response(b)
					}
				}).
				ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
					p, err := httppush.New(httppush.Options{
						Consumer: flagsv1.ConsumerEvaluationProjection, Topic: flagsv1.Topic,
						URL: fmt.Sprintf("http://%s:%d", cfg.Host, cfg.Port), Token: pushPactToken, Logger: quiet,
					})
					if err != nil {
						return err
					}
					msg := outbox.NewMessage(tc.event.EventID, tc.event.Type, payload)
					return tc.check(p.Handler().Handle(msg))
				})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func applied(err error) error {
	if err != nil {
		return fmt.Errorf("push = %v, want the read side's 204", err)
	}
	return nil
}
