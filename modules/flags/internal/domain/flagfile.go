package domain

import (
	"encoding/json"
	"sort"
	"strconv"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
)

// SchemaURL is the flagd flag-definition schema that exported flag files name.
const SchemaURL = "https://flagd.dev/schema/v0/flags.json"

// FlagFile is a flagd flag file: {"$schema", "flags": {key: definition}, "$evaluators":
// {name: rule}, "metadata": {...}}. Evaluators and Metadata are nil when the file has no
// such member, which an import tells apart from an empty one.
type FlagFile struct {
	Schema     string                        `json:"$schema,omitempty"`
	Flags      map[string]flagsv1.Definition `json:"flags"`
	Evaluators map[string]json.RawMessage    `json:"$evaluators,omitempty"`
	Metadata   map[string]any                `json:"metadata,omitempty"`
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

// ValidateFlagFile checks the shape of every part of a flag file (flag keys and
// definitions, evaluators, metadata) and returns it in canonical form with every
// problem found. Whether targeting compiles depends on the environment it goes to; see
// PlanImport. Flags with a problem are left out of the returned file.
func ValidateFlagFile(f FlagFile) (FlagFile, FieldErrors) {
	var errs FieldErrors
	out := FlagFile{Schema: f.Schema, Flags: make(map[string]flagsv1.Definition, len(f.Flags)), Metadata: f.Metadata}
	for _, key := range f.Keys() {
		if err := ValidateFlagKey(key); err != nil {
			errs.Add("flags."+key, "%s", err.Error())
			continue
		}
		def, err := ValidateDefinition(f.Flags[key])
		if err != nil {
			errs.AddErr("flags."+key+".", "flag "+strconv.Quote(key)+": ", err)
			continue
		}
		out.Flags[key] = def
	}
	if f.Evaluators != nil {
		evaluators, evErrs := validateEvaluators(f.Evaluators)
		errs = append(errs, evErrs...)
		out.Evaluators = evaluators
	}
	errs = append(errs, validateFlagSetMetadata(f.Metadata)...)
	return out, errs
}
