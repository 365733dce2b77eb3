package snapshotv1

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
)

// Path is where the evaluation module serves the snapshot of its default environment
// (GET; ETag and If-None-Match; application/json).
const Path = "/sdk/v1/flags.json"

// SchemaURL is the flagd flag-definition schema a snapshot names in $schema.
const SchemaURL = "https://flagd.dev/schema/v0/flags.json"

// Snapshot is the body served at Path.
type Snapshot struct {
	Schema      string                        `json:"$schema,omitempty"`
	Environment string                        `json:"environment"`
	Revision    int64                         `json:"revision"`
	Flags       map[string]flagsv1.Definition `json:"flags"`
	Evaluators  map[string]json.RawMessage    `json:"$evaluators,omitempty"`
	Metadata    map[string]any                `json:"metadata,omitempty"`
}

// Decode parses and checks a snapshot: an object with an environment, a revision that is
// not negative, and flags (possibly empty), each with a state. Unknown fields are ignored.
func Decode(data []byte) (Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return Snapshot{}, fmt.Errorf("decode definitions snapshot: %w", err)
	}
	switch {
	case s.Environment == "":
		return Snapshot{}, errors.New("decode definitions snapshot: environment is missing")
	case s.Revision < 0:
		return Snapshot{}, fmt.Errorf("decode definitions snapshot: revision %d is negative", s.Revision)
	case s.Flags == nil:
		return Snapshot{}, errors.New("decode definitions snapshot: flags is missing")
	}
	for key, def := range s.Flags {
		if def.State == "" {
			return Snapshot{}, fmt.Errorf("decode definitions snapshot: flag %q has no state", key)
		}
	}
	return s, nil
}

// MergedMetadata returns the metadata of a result of the flag key as the server reports
// it: the flag set's metadata with the flag's own laid over it. It returns nil when
// neither has any, and never modifies s.
func (s Snapshot) MergedMetadata(key string) map[string]any {
	own := s.Flags[key].Metadata
	if len(s.Metadata) == 0 {
		return own
	}
	merged := make(map[string]any, len(s.Metadata)+len(own))
	for k, v := range s.Metadata {
		merged[k] = v
	}
	for k, v := range own {
		merged[k] = v
	}
	return merged
}
