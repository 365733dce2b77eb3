package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// Limits on one definition; a flag service stores many small flags, not documents.
const (
	MaxVariants          = 256
	MaxVariantNameLength = 128
	MaxMetadataEntries   = 64
)

// ValidateDefinition checks a flagd definition and returns it in canonical form
// (variant values and targeting compacted), or an Invalid error naming the field.
func ValidateDefinition(d flagsv1.Definition) (flagsv1.Definition, error) {
	switch d.State {
	case flagsv1.StateEnabled, flagsv1.StateDisabled:
	case "":
		return d, apperr.InvalidField("state", "state is required: %q or %q", flagsv1.StateEnabled, flagsv1.StateDisabled)
	default:
		return d, apperr.InvalidField("state", "state %q is invalid: use %q or %q", d.State, flagsv1.StateEnabled, flagsv1.StateDisabled)
	}
	variants, err := validateVariants(d.Variants)
	if err != nil {
		return d, err
	}
	d.Variants = variants
	if d.DefaultVariant != nil {
		if _, ok := d.Variants[*d.DefaultVariant]; !ok {
			return d, apperr.InvalidField("defaultVariant", "defaultVariant %q is not among the variants (%s)",
				*d.DefaultVariant, strings.Join(sortedKeys(d.Variants), ", "))
		}
	}
	targeting, err := validateTargeting(d.Targeting)
	if err != nil {
		return d, err
	}
	d.Targeting = targeting
	if err := validateMetadata(d.Metadata); err != nil {
		return d, err
	}
	return d, nil
}

func validateVariants(variants map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	if len(variants) == 0 {
		return nil, apperr.InvalidField("variants", "variants is required: an object of at least one named value")
	}
	if len(variants) > MaxVariants {
		return nil, apperr.InvalidField("variants", "too many variants: %d, at most %d", len(variants), MaxVariants)
	}
	out := make(map[string]json.RawMessage, len(variants))
	firstName, firstType := "", ""
	for _, name := range sortedKeys(variants) {
		field := "variants." + name
		if name == "" || len(name) > MaxVariantNameLength {
			return nil, apperr.InvalidField(field, "variant names must be 1-%d characters", MaxVariantNameLength)
		}
		typ, err := jsonType(variants[name])
		if err != nil {
			return nil, apperr.InvalidField(field, "variant %q: %v", name, err)
		}
		switch {
		case firstType == "":
			firstName, firstType = name, typ
		case typ != firstType:
			return nil, apperr.InvalidField(field, "variants have mixed types: %q is %s but %q is %s; all variants of a flag must have one type",
				firstName, firstType, name, typ)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, variants[name]); err != nil {
			return nil, apperr.InvalidField(field, "variant %q is not valid JSON: %v", name, err)
		}
		out[name] = compact.Bytes()
	}
	return out, nil
}

// jsonType names the flagd type of a variant value.
func jsonType(raw json.RawMessage) (string, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return "", fmt.Errorf("value is missing")
	}
	switch c := trimmed[0]; {
	case c == 't' || c == 'f':
		return "boolean", nil
	case c == '"':
		return "string", nil
	case c == '-' || (c >= '0' && c <= '9'):
		return "number", nil
	case c == '{':
		return "object", nil
	case c == 'n':
		return "", fmt.Errorf("value must not be null")
	case c == '[':
		return "", fmt.Errorf("value must be a boolean, string, number or object, not an array")
	default:
		return "", fmt.Errorf("value is not valid JSON")
	}
}

func validateTargeting(raw json.RawMessage) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, nil
	}
	if trimmed[0] != '{' {
		return nil, apperr.InvalidField("targeting", "targeting must be a JSON object (a JsonLogic rule), or {} for none")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, trimmed); err != nil {
		return nil, apperr.InvalidField("targeting", "targeting is not valid JSON: %v", err)
	}
	if compact.String() == "{}" {
		return nil, nil
	}
	return compact.Bytes(), nil
}

func validateMetadata(md map[string]any) error {
	if len(md) > MaxMetadataEntries {
		return apperr.InvalidField("metadata", "too many metadata entries: %d, at most %d", len(md), MaxMetadataEntries)
	}
	for _, k := range sortedKeys(md) {
		if k == "" {
			return apperr.InvalidField("metadata", "metadata keys must not be empty")
		}
		switch md[k].(type) {
		case string, bool, float64, json.Number:
		default:
			return apperr.InvalidField("metadata."+k, "metadata %q must be a string, number or boolean", k)
		}
	}
	return nil
}

// SameDefinition reports whether two canonical definitions are equal.
func SameDefinition(a, b flagsv1.Definition) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
