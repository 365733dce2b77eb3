package snapshot

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
)

// Definitions returns the snapshot's definitions as a contracts/snapshotv1 document:
// every live ENABLED or DISABLED flag's definition as stored, the flag set's shared rules
// and metadata. It is encoded on first use and then shared by every request for this
// revision (do not modify it), so building snapshots costs nothing for it.
//
// Each flag carries the shared rules and flag-set metadata of its last event. They agree
// once every event of a change has been projected (the flags module sends an event for
// every flag a changed rule or metadata concerns); until then the copy of the most
// recently changed flag wins, and the next revision brings the rest.
func (s *Snapshot) Definitions() []byte {
	s.defsOnce.Do(func() { s.defs = s.encodeDefinitions() })
	return s.defs
}

func (s *Snapshot) encodeDefinitions() []byte {
	doc := struct {
		Schema      string                     `json:"$schema"`
		Environment string                     `json:"environment"`
		Revision    int64                      `json:"revision"`
		Flags       map[string]json.RawMessage `json:"flags"`
		Evaluators  map[string]json.RawMessage `json:"$evaluators,omitempty"`
		Metadata    map[string]any             `json:"metadata,omitempty"`
	}{
		Schema: snapshotv1.SchemaURL, Environment: s.Environment, Revision: s.Revision,
		Flags: make(map[string]json.RawMessage, len(s.sorted)),
	}
	// Newest first (ties by key), so that the first copy of a shared rule or of the
	// metadata met is the one to keep.
	newest := slices.Clone(s.sorted)
	slices.SortStableFunc(newest, func(a, b *Flag) int { return cmp.Compare(b.source.Changed.UnixNano(), a.source.Changed.UnixNano()) })
	for i, f := range newest {
		if i == 0 {
			doc.Metadata = f.source.FlagSetMetadata
		}
		if f.definition == nil || (f.State != flagsv1.StateEnabled && f.State != flagsv1.StateDisabled) {
			continue
		}
		doc.Flags[f.Key] = f.definition
		for name, rule := range f.source.Evaluators {
			if doc.Evaluators == nil {
				doc.Evaluators = map[string]json.RawMessage{}
			}
			if _, taken := doc.Evaluators[name]; !taken {
				doc.Evaluators[name] = rule
			}
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		// Every part was decoded from JSON or encoded by json.Marshal before.
		panic(fmt.Sprintf("encode definitions of %s at revision %d: %v", s.Environment, s.Revision, err))
	}
	return b
}
