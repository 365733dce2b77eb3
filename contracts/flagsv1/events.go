package flagsv1

import (
	"encoding/json"
	"time"
)

// Topic is where every flag event is published. Consumers subscribe to it under their
// own consumer names (below); the inbox of each consumer is keyed by that name.
const Topic = "switchyard.flags.v1"

// Event types. The evaluation module projects all of them; the audit module records all.
const (
	TypeFlagCreated      = "flags.v1.flag_created"
	TypeFlagUpdated      = "flags.v1.flag_updated"
	TypeFlagStateChanged = "flags.v1.flag_state_changed"
	TypeFlagArchived     = "flags.v1.flag_archived"
)

// Consumer names: stable identities of the handlers that consume Topic. They key the
// consumers' inboxes, so renaming one replays every event to that consumer.
const (
	ConsumerEvaluationProjection = "evaluation.flag-projection"
	ConsumerAuditTimeline        = "audit.flag-timeline"
)

// MetadataEventType is the message metadata key that carries an event's Type, so that a
// consumer can route without decoding the payload.
const MetadataEventType = "event_type"

// FlagChanged is the payload of every flag event.
//
// Version rises by one with every change of a flag and never restarts, not even when an
// archived flag is created again: consumers keep the highest version they have seen and
// ignore older ones. After is the definition as of Version; it is nil only for
// TypeFlagArchived. Before is the definition as of the previous version; it is nil for
// TypeFlagCreated (and for a flag re-created after it was archived).
type FlagChanged struct {
	EventID     string      `json:"eventId"`
	Type        string      `json:"type"`
	Environment string      `json:"environment"`
	FlagKey     string      `json:"flagKey"`
	Version     int64       `json:"version"`
	Actor       string      `json:"actor"`
	Reason      string      `json:"reason,omitempty"`
	OccurredAt  time.Time   `json:"occurredAt"`
	Before      *Definition `json:"before"`
	After       *Definition `json:"after"`
	// Evaluators are the environment's shared rules ($evaluators) that After's targeting
	// references with $ref, so the event is self-contained. When a shared rule changes,
	// every flag referencing it gets a new version and a flag_updated event.
	Evaluators map[string]json.RawMessage `json:"evaluators,omitempty"`
	// FlagSetMetadata is the environment's flag-set metadata, merged under the flag's own
	// metadata in evaluation results (flagd semantics: the flag's keys win).
	FlagSetMetadata map[string]any `json:"flagSetMetadata,omitempty"`
}

// Archived reports whether the event removes the flag from evaluation.
func (e FlagChanged) Archived() bool { return e.Type == TypeFlagArchived }
