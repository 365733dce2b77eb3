package domain

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// Flag is one flag of one environment at one version.
type Flag struct {
	Environment  string
	Key          string
	Version      int64
	Definition   flagsv1.Definition
	Archived     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	UpdatedBy    string
	ChangeReason string
}

// Meta says who changes a flag, when and why.
type Meta struct {
	Actor  string
	Reason string
	At     time.Time
	// IfMatch, when set, is the version the caller expects the flag to be at.
	IfMatch *int64
	// MustExist (If-Match: *) requires a live flag to exist.
	MustExist bool
}

// Change is one committed-to-be transition: the flag's next state and the event that
// tells the other modules about it.
type Change struct {
	Next  Flag
	Event flagsv1.FlagChanged
}

// Put creates current's flag, replaces its definition, or restores it from the archive.
// def must be valid (ValidateDefinition); its targeting is compiled here against set's
// evaluators. It returns nil when def equals the current definition: an identical PUT is
// a no-op, which makes retries and re-imports harmless.
func Put(current *Flag, set FlagSet, env, key string, def flagsv1.Definition, m Meta) (*Change, error) {
	if err := checkIfMatch(current, m); err != nil {
		return nil, err
	}
	if current != nil && !current.Archived && SameDefinition(current.Definition, def) {
		return nil, nil
	}
	if err := CheckTargeting(def, set.Evaluators); err != nil {
		return nil, err
	}
	next := Flag{Environment: env, Key: key, Version: 1, Definition: def, CreatedAt: m.At}
	eventType := flagsv1.TypeFlagCreated
	var before *flagsv1.Definition
	if current != nil {
		next.Version = current.Version + 1
		next.CreatedAt = current.CreatedAt
		if !current.Archived {
			eventType = flagsv1.TypeFlagUpdated
			prev := current.Definition
			before = &prev
		}
	}
	return newChange(next, eventType, before, set, m), nil
}

// Refresh gives a live flag a new version with an unchanged definition, because what it
// shares with its flag set changed (a referenced evaluator, the flag-set metadata): its
// event carries the new shared parts, so consumers evaluate from the event alone.
func Refresh(current *Flag, set FlagSet, m Meta) (*Change, error) {
	if current == nil || current.Archived {
		return nil, fmt.Errorf("refresh: only a live flag can be refreshed")
	}
	next := *current
	next.Version++
	before := current.Definition
	return newChange(next, flagsv1.TypeFlagUpdated, &before, set, m), nil
}

// SetState enables or disables a flag. Setting the state it already has is a no-op (nil).
func SetState(current *Flag, set FlagSet, env, key, state string, m Meta) (*Change, error) {
	if state != flagsv1.StateEnabled && state != flagsv1.StateDisabled {
		return nil, apperr.InvalidField("state", "state %q is invalid: use %q or %q", state, flagsv1.StateEnabled, flagsv1.StateDisabled)
	}
	if err := mustBeLive(current, env, key); err != nil {
		return nil, err
	}
	if err := checkIfMatch(current, m); err != nil {
		return nil, err
	}
	if current.Definition.State == state {
		return nil, nil
	}
	next := *current
	next.Version++
	next.Definition.State = state
	before := current.Definition
	return newChange(next, flagsv1.TypeFlagStateChanged, &before, set, m), nil
}

// Archive takes a flag out of evaluation, keeping its history. Archiving an archived
// flag is a no-op (nil).
func Archive(current *Flag, set FlagSet, env, key string, m Meta) (*Change, error) {
	if current == nil {
		return nil, apperr.New(apperr.NotFound, "flag %q not found in environment %q", key, env)
	}
	if err := checkIfMatch(current, m); err != nil {
		return nil, err
	}
	if current.Archived {
		return nil, nil
	}
	next := *current
	next.Version++
	next.Archived = true
	before := current.Definition
	return newChange(next, flagsv1.TypeFlagArchived, &before, set, m), nil
}

// newChange is the transition to next. Its event carries the evaluators After references
// and the flag-set metadata, so that it is self-contained.
func newChange(next Flag, eventType string, before *flagsv1.Definition, set FlagSet, m Meta) *Change {
	next.UpdatedAt = m.At
	next.UpdatedBy = m.Actor
	next.ChangeReason = m.Reason
	var after *flagsv1.Definition
	var evaluators map[string]json.RawMessage
	if !next.Archived {
		def := next.Definition
		after = &def
		evaluators = set.Referenced(def.Targeting)
	}
	var setMetadata map[string]any
	if len(set.Metadata) > 0 {
		setMetadata = set.Metadata
	}
	return &Change{
		Next: next,
		Event: flagsv1.FlagChanged{
			EventID:     newEventID(),
			Type:        eventType,
			Environment: next.Environment,
			FlagKey:     next.Key,
			Version:     next.Version,
			Actor:       m.Actor,
			Reason:      m.Reason,
			OccurredAt:  m.At.UTC(),
			Before:      before,
			After:       after,

			Evaluators:      evaluators,
			FlagSetMetadata: setMetadata,
		},
	}
}

// newEventID returns a time-ordered UUID (v7), falling back to a random one.
func newEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

func mustBeLive(current *Flag, env, key string) error {
	switch {
	case current == nil:
		return apperr.New(apperr.NotFound, "flag %q not found in environment %q", key, env)
	case current.Archived:
		return apperr.New(apperr.NotFound, "flag %q in environment %q is archived (version %d); PUT its definition to restore it", key, env, current.Version)
	}
	return nil
}

func checkIfMatch(current *Flag, m Meta) error {
	if m.MustExist && (current == nil || current.Archived) {
		return apperr.New(apperr.PreconditionFailed, "If-Match: * expects the flag to exist, but it does not")
	}
	want := m.IfMatch
	if want == nil {
		return nil
	}
	if current == nil {
		return apperr.New(apperr.PreconditionFailed, "If-Match expects version %d but the flag does not exist", *want)
	}
	if current.Version != *want {
		return &apperr.Error{Kind: apperr.PreconditionFailed,
			Detail: fmt.Sprintf("If-Match expects version %d but the flag is at version %d", *want, current.Version)}
	}
	return nil
}
