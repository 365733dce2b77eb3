// Package bustest lets a module's tests drive its event handlers the way the outbox relay
// and the bus do, without a running bus.
package bustest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/outbox"
)

// Handler returns the handler named name on topic, failing the test when there is none:
// handler names are contract, so a test that finds none has found a broken contract.
func Handler(tb testing.TB, handlers []bus.Handler, name, topic string) bus.Handler {
	tb.Helper()
	for _, h := range handlers {
		if h.Name == name && h.Topic == topic {
			return h
		}
	}
	tb.Fatalf("no handler %s on %s among %d handlers", name, topic, len(handlers))
	return bus.Handler{}
}

// DeliverPayload hands an event payload to h as the relay would, reading the event id
// and type from the payload's eventId and type fields.
func DeliverPayload(ctx context.Context, h bus.Handler, payload []byte) error {
	var head struct {
		EventID string `json:"eventId"`
		Type    string `json:"type"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return fmt.Errorf("message is not a JSON object: %w: %s", err, payload)
	}
	msg := outbox.NewMessage(head.EventID, head.Type, payload)
	msg.SetContext(ctx)
	return h.Handle(msg)
}
