package flageval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/targeting"
)

// Source is what a flag is compiled from: its definition, the shared rules its
// targeting references and its flag set's metadata.
type Source struct {
	Definition      flagsv1.Definition
	Evaluators      map[string]json.RawMessage
	FlagSetMetadata map[string]any
}

// Variant is one of a flag's variants, its value decoded once.
type Variant struct {
	Name string
	Raw  json.RawMessage // compact JSON
	// Value is Raw decoded: bool, float64, string, nil, map[string]any or []any. It is
	// shared by every evaluation and must not be modified.
	Value any
}

// Decision is the outcome of one evaluation: a success (ErrorCode empty) whose Variant
// is nil when the caller's code default applies (DISABLED, or no default variant), or a
// failure with an OpenFeature error code. Evaluate returns Decisions shared by every
// evaluation: they must not be modified.
type Decision struct {
	Reason       string
	Variant      *Variant
	ErrorCode    string
	ErrorDetails string
}

// Flag is a compiled flag. It is immutable and safe for concurrent use.
type Flag struct {
	Key string
	// Metadata is the flag's metadata laid over its flag set's; shared, read-only.
	Metadata map[string]any

	fixed    *Decision // the answer when rule is nil, or when it matches nothing
	rule     *targeting.Rule
	variants map[string]*Variant
	matches  map[string]*Decision // TARGETING_MATCH per variant, when rule is set
}

// Compile compiles a flag. It never fails: a definition that cannot be served compiles
// to a flag whose every evaluation is a failure, as on the server.
func Compile(key string, src Source) *Flag {
	def := src.Definition
	f := &Flag{Key: key, Metadata: mergeMetadata(src.FlagSetMetadata, def.Metadata), variants: make(map[string]*Variant, len(def.Variants))}
	var invalid []string
	for name, raw := range def.Variants {
		v, err := decodeVariant(name, raw)
		if err != nil {
			invalid = append(invalid, name)
			continue
		}
		f.variants[name] = v
	}
	targeted := hasTargeting(def.Targeting)
	f.fixed = f.staticDecision(def, targeted, invalid)
	if !targeted || def.State != flagsv1.StateEnabled || f.fixed.ErrorCode != "" {
		return f
	}
	rule, err := targeting.Compile(def.Targeting, src.Evaluators)
	switch {
	case err != nil:
		f.fixed = Failure(ofrepv1.ErrorParse, fmt.Sprintf("flag '%s' has an invalid targeting rule: %v", key, err))
	case !rule.Static():
		f.rule = rule
		f.matches = make(map[string]*Decision, len(f.variants))
		for name, v := range f.variants {
			f.matches[name] = &Decision{Reason: ofrepv1.ReasonTargetingMatch, Variant: v}
		}
	}
	return f
}

// Static reports whether the flag's answer is the same for every context and time.
func (f *Flag) Static() bool { return f.rule == nil }

// Evaluate decides the flag for evalCtx (read, never modified) at unix time now ($flagd.timestamp).
func (f *Flag) Evaluate(evalCtx map[string]any, now int64) *Decision {
	if f.rule == nil {
		return f.fixed
	}
	res, err := f.rule.Evaluate(targeting.Input{FlagKey: f.Key, Context: evalCtx, Timestamp: now})
	if err != nil {
		code, details := ofrepv1.ErrorGeneral, err.Error()
		if ee, ok := errors.AsType[*targeting.EvalError](err); ok {
			code, details = ee.Code, ee.Msg
		}
		return Failure(code, fmt.Sprintf("flag '%s': %s", f.Key, details))
	}
	if res.Outcome == targeting.NoMatch {
		return f.fixed
	}
	if d, ok := f.matches[res.Variant]; ok {
		return d
	}
	return Failure(ofrepv1.ErrorGeneral, fmt.Sprintf("flag '%s': targeting chose variant '%s', which the flag does not have", f.Key, res.Variant))
}

func (f *Flag) staticDecision(def flagsv1.Definition, targeted bool, invalid []string) *Decision {
	switch def.State {
	case flagsv1.StateDisabled:
		return &Decision{Reason: ofrepv1.ReasonDisabled}
	case flagsv1.StateEnabled:
	default:
		return Failure(ofrepv1.ErrorGeneral, fmt.Sprintf("flag '%s' has an unknown state '%s'", f.Key, def.State))
	}
	if def.DefaultVariant == nil {
		return &Decision{Reason: ofrepv1.ReasonDefault}
	}
	name := *def.DefaultVariant
	for _, bad := range invalid {
		if bad == name {
			return Failure(ofrepv1.ErrorGeneral, fmt.Sprintf("flag '%s' has a default variant '%s' whose value is not valid JSON", f.Key, name))
		}
	}
	v, ok := f.variants[name]
	if !ok {
		return Failure(ofrepv1.ErrorGeneral, fmt.Sprintf("flag '%s' has a default variant '%s' that is not one of its variants", f.Key, name))
	}
	if targeted {
		return &Decision{Reason: ofrepv1.ReasonDefault, Variant: v}
	}
	return &Decision{Reason: ofrepv1.ReasonStatic, Variant: v}
}

// Failure is a decision to serve the caller's default because of code.
func Failure(code, details string) *Decision {
	return &Decision{Reason: ofrepv1.ReasonError, ErrorCode: code, ErrorDetails: details}
}

func decodeVariant(name string, raw json.RawMessage) (*Variant, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	v := &Variant{Name: name, Raw: buf.Bytes()}
	if err := json.Unmarshal(v.Raw, &v.Value); err != nil {
		return nil, err
	}
	return v, nil
}

// mergeMetadata lays the flag's own metadata over its flag set's, as flagd does.
func mergeMetadata(flagSet, flag map[string]any) map[string]any {
	merged := make(map[string]any, len(flagSet)+len(flag))
	maps.Copy(merged, flagSet)
	maps.Copy(merged, flag)
	return merged
}

func hasTargeting(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(t, &obj); err == nil && len(obj) == 0 {
		return false
	}
	return true
}
