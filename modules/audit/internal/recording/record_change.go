// Package recording turns flag events into audit timeline entries.
package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/audit/internal/timeline"
)

// Action returns the timeline action for an event type. An unknown type is recorded
// under its raw name: the audit log keeps events it does not understand yet.
func Action(eventType string) string {
	switch eventType {
	case flagsv1.TypeFlagCreated:
		return "flag.created"
	case flagsv1.TypeFlagUpdated:
		return "flag.updated"
	case flagsv1.TypeFlagStateChanged:
		return "flag.state_changed"
	case flagsv1.TypeFlagArchived:
		return "flag.archived"
	default:
		return eventType
	}
}

// NewRecordChange returns the bus handler that records every flagsv1.FlagChanged once,
// under consumer's inbox. A payload it cannot decode is an error, never dropped: the bus
// retries it and finally poisons it where an operator sees it.
func NewRecordChange(store *timeline.Store, consumer string, logger *slog.Logger, now func() time.Time) message.NoPublishHandlerFunc {
	if store == nil || consumer == "" || logger == nil || now == nil {
		panic("recording.NewRecordChange: nil dependency")
	}
	return func(msg *message.Message) error {
		e, err := decode(msg.Payload)
		if err != nil {
			return fmt.Errorf("audit: message %s: %w", msg.UUID, err)
		}
		e.RecordedAt = now()
		ctx := msg.Context()
		recorded, err := store.Record(ctx, consumer, e)
		if err != nil {
			return fmt.Errorf("audit: record event %s: %w", e.EventID, err)
		}
		if !recorded {
			logger.DebugContext(ctx, "audit event already recorded", "event_id", e.EventID)
			return nil
		}
		logger.DebugContext(ctx, "audit event recorded", "event_id", e.EventID, "action", e.Action,
			"environment", e.Environment, "flag", e.FlagKey, "version", e.Version)
		return nil
	}
}

// decode reads a FlagChanged into an entry. Before and After are kept as the event
// carried them, so that definition fields this build does not know survive in the log.
func decode(payload []byte) (timeline.Entry, error) {
	var ev flagsv1.FlagChanged
	if err := json.Unmarshal(payload, &ev); err != nil {
		return timeline.Entry{}, fmt.Errorf("decode flag event: %w", err)
	}
	var raw struct {
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return timeline.Entry{}, fmt.Errorf("decode flag event definitions: %w", err)
	}
	switch {
	case ev.EventID == "":
		return timeline.Entry{}, errors.New("decode flag event: eventId is missing")
	case ev.Type == "":
		return timeline.Entry{}, fmt.Errorf("decode flag event %s: type is missing", ev.EventID)
	case ev.OccurredAt.IsZero():
		return timeline.Entry{}, fmt.Errorf("decode flag event %s: occurredAt is missing", ev.EventID)
	}
	before, err := definitionJSON(raw.Before)
	if err != nil {
		return timeline.Entry{}, fmt.Errorf("decode flag event %s: before: %w", ev.EventID, err)
	}
	after, err := definitionJSON(raw.After)
	if err != nil {
		return timeline.Entry{}, fmt.Errorf("decode flag event %s: after: %w", ev.EventID, err)
	}
	return timeline.Entry{
		EventID:     ev.EventID,
		EventType:   ev.Type,
		Action:      Action(ev.Type),
		OccurredAt:  ev.OccurredAt,
		Actor:       ev.Actor,
		Environment: ev.Environment,
		FlagKey:     ev.FlagKey,
		Version:     ev.Version,
		Reason:      ev.Reason,
		Before:      before,
		After:       after,
	}, nil
}

// definitionJSON compacts a definition as the event carried it; absent or null is nil.
func definitionJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
