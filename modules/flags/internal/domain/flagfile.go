package domain

import (
	"encoding/json"
	"sort"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// FlagFile is a flagd flag file: {"$schema": ..., "flags": {key: definition}, "metadata": {...}}.
type FlagFile struct {
	Schema     string                        `json:"$schema,omitempty"`
	Flags      map[string]flagsv1.Definition `json:"flags"`
	Metadata   map[string]any                `json:"metadata,omitempty"`
	Evaluators map[string]json.RawMessage    `json:"$evaluators,omitempty"`
}

// Keys returns the file's flag keys in order.
func (f FlagFile) Keys() []string {
	keys := make([]string, 0, len(f.Flags))
	for k := range f.Flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ValidateFlagFile checks every flag of a flag file and returns them in canonical form.
// Shared $evaluators need the targeting engine, which Switchyard does not have yet: a
// file that uses them is refused rather than imported half-understood.
func ValidateFlagFile(f FlagFile) (FlagFile, error) {
	if len(f.Flags) == 0 {
		return f, apperr.InvalidField("flags", "the flag file defines no flags")
	}
	if len(f.Evaluators) > 0 {
		return f, apperr.InvalidField("$evaluators", "shared $evaluators are not supported yet")
	}
	out := make(map[string]flagsv1.Definition, len(f.Flags))
	for _, key := range f.Keys() {
		if err := ValidateFlagKey(key); err != nil {
			return f, apperr.InvalidField("flags."+key, "%s", err.Error())
		}
		def, err := ValidateDefinition(f.Flags[key])
		if ae, ok := err.(*apperr.Error); ok {
			return f, apperr.InvalidField("flags."+key+"."+ae.Field, "flag %q: %s", key, ae.Detail)
		}
		if err != nil {
			return f, err
		}
		out[key] = def
	}
	f.Flags = out
	return f, nil
}
