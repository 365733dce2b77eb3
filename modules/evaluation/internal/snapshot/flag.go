// Package snapshot holds the compiled, immutable view of flags that evaluation reads:
// one Snapshot per environment, replaced whole (copy-on-write) when an event is
// projected, so that readers never lock and never parse a definition.
package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/targeting"
)

// Result is one flag's evaluation, already encoded as an OFREP item: a success
// (ErrorCode empty) or a failure.
type Result struct {
	Body      []byte
	ErrorCode string
}

// Flag is one definition compiled for evaluation.
type Flag struct {
	Key            string
	State          string
	DefaultVariant *string
	Variants       map[string]json.RawMessage // compacted raw JSON values
	Metadata       json.RawMessage            // encoded object, "{}" when the flag has none
	Targeted       bool                       // the definition has a non-empty targeting rule

	// result is the flag's evaluation whenever it does not depend on the context
	// (disabled, no rule, or a definition that cannot be served), encoded once here.
	result Result
	// rule is the compiled targeting rule of an enabled, servable, targeted flag; nil
	// when result answers every request.
	rule *targeting.Rule
	// noMatch is the answer when the rule returns no variant (DEFAULT), and matches the
	// answer per variant the rule can choose (TARGETING_MATCH), all encoded once here.
	noMatch Result
	matches map[string]Result
}

// Source is what a flag is compiled from: its definition, the shared rules its
// targeting references, and its flag set's metadata.
type Source struct {
	Definition      flagsv1.Definition
	Evaluators      map[string]json.RawMessage
	FlagSetMetadata map[string]any
}

// Compile turns a definition into a Flag. It never fails: a definition that cannot be
// served (unknown state, a default variant that is not a variant) compiles to a flag
// whose evaluation is a GENERAL error, so one bad flag never stops a projection.
func Compile(key string, src Source) *Flag {
	def := src.Definition
	f := &Flag{
		Key:      key,
		State:    def.State,
		Variants: make(map[string]json.RawMessage, len(def.Variants)),
		Metadata: encodeMetadata(mergeMetadata(src.FlagSetMetadata, def.Metadata)),
		Targeted: hasTargeting(def.Targeting),
	}
	if def.DefaultVariant != nil {
		dv := *def.DefaultVariant
		f.DefaultVariant = &dv
	}
	var invalid []string
	for name, raw := range def.Variants {
		value, err := compact(raw)
		if err != nil {
			invalid = append(invalid, name)
			continue
		}
		f.Variants[name] = value
	}
	f.result = f.staticResult(invalid)
	if f.Targeted && f.State == flagsv1.StateEnabled && f.result.ErrorCode == "" {
		f.compileRule(def.Targeting, src.Evaluators)
	}
	return f
}

// compileRule compiles the flag's targeting and encodes every answer it can lead to. A
// rule that does not compile makes every evaluation a PARSE_ERROR, as flagd does; the
// flags module refuses such rules, so this guards only definitions stored before.
func (f *Flag) compileRule(rule json.RawMessage, evaluators map[string]json.RawMessage) {
	compiled, err := targeting.Compile(rule, evaluators)
	if err != nil {
		f.result = f.failure(ofrepv1.ErrorParse, fmt.Sprintf("flag '%s' has an invalid targeting rule: %v", f.Key, err))
		return
	}
	if compiled.Static() {
		return
	}
	f.rule = compiled
	f.noMatch = f.result // DEFAULT with the default variant, or the code default
	f.matches = make(map[string]Result, len(f.Variants))
	for name, value := range f.Variants {
		variant := name
		f.matches[name] = f.success(ofrepv1.ReasonTargetingMatch, &variant, value)
	}
}

// Evaluate evaluates the flag for one request. Only a targeted flag reads the request's
// context, and the context is decoded at most once per request.
func (f *Flag) Evaluate(req *Request) Result {
	if f.rule == nil {
		return f.result
	}
	evalCtx, err := req.decoded()
	if err != nil {
		return f.failure(ofrepv1.ErrorInvalidContext, err.Error())
	}
	res, err := f.rule.Evaluate(targeting.Input{FlagKey: f.Key, Context: evalCtx, Timestamp: req.now})
	if err != nil {
		code, details := ofrepv1.ErrorGeneral, err.Error()
		var ee *targeting.EvalError
		if errors.As(err, &ee) {
			code, details = ee.Code, ee.Msg
		}
		return f.failure(code, fmt.Sprintf("flag '%s': %s", f.Key, details))
	}
	if res.Outcome == targeting.NoMatch {
		return f.noMatch
	}
	if r, ok := f.matches[res.Variant]; ok {
		return r
	}
	return f.failure(ofrepv1.ErrorGeneral, fmt.Sprintf("flag '%s': targeting chose variant '%s', which the flag does not have", f.Key, res.Variant))
}

func (f *Flag) staticResult(invalidVariants []string) Result {
	switch f.State {
	case flagsv1.StateDisabled:
		return f.success(ofrepv1.ReasonDisabled, nil, nil)
	case flagsv1.StateEnabled:
	default:
		return f.failure(ofrepv1.ErrorGeneral, fmt.Sprintf("flag '%s' has an unknown state '%s'", f.Key, f.State))
	}
	if f.DefaultVariant == nil {
		return f.success(ofrepv1.ReasonDefault, nil, nil)
	}
	if slices.Contains(invalidVariants, *f.DefaultVariant) {
		return f.failure(ofrepv1.ErrorGeneral,
			fmt.Sprintf("flag '%s' has a default variant '%s' whose value is not valid JSON", f.Key, *f.DefaultVariant))
	}
	value, ok := f.Variants[*f.DefaultVariant]
	if !ok {
		return f.failure(ofrepv1.ErrorGeneral,
			fmt.Sprintf("flag '%s' has a default variant '%s' that is not one of its variants", f.Key, *f.DefaultVariant))
	}
	if f.Targeted {
		return f.success(ofrepv1.ReasonDefault, f.DefaultVariant, value)
	}
	return f.success(ofrepv1.ReasonStatic, f.DefaultVariant, value)
}

// item is the OFREP wire shape of one evaluation. ofrepv1.Evaluation omits an empty
// metadata map, but OFREP clients expect metadata to be an object on every success.
type item struct {
	Key          string          `json:"key"`
	Reason       string          `json:"reason,omitempty"`
	Variant      *string         `json:"variant,omitempty"`
	Value        json.RawMessage `json:"value,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	ErrorCode    string          `json:"errorCode,omitempty"`
	ErrorDetails string          `json:"errorDetails,omitempty"`
}

func (f *Flag) success(reason string, variant *string, value json.RawMessage) Result {
	return Result{Body: mustEncode(item{Key: f.Key, Reason: reason, Variant: variant, Value: value, Metadata: f.Metadata})}
}

func (f *Flag) failure(code, details string) Result {
	return Result{Body: Failure(f.Key, code, details), ErrorCode: code}
}

// Failure encodes an OFREP evaluation failure for key.
func Failure(key, code, details string) []byte {
	return mustEncode(item{Key: key, ErrorCode: code, ErrorDetails: details})
}

func mustEncode(v item) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every field is a string or JSON that was decoded (hence valid) before.
		panic(fmt.Sprintf("encode evaluation of %q: %v", v.Key, err))
	}
	return b
}

// mergeMetadata lays the flag's own metadata over its flag set's, as flagd does.
func mergeMetadata(flagSet, flag map[string]any) map[string]any {
	if len(flagSet) == 0 {
		return flag
	}
	merged := make(map[string]any, len(flagSet)+len(flag))
	for k, v := range flagSet {
		merged[k] = v
	}
	for k, v := range flag {
		merged[k] = v
	}
	return merged
}

func encodeMetadata(md map[string]any) json.RawMessage {
	if len(md) == 0 {
		return json.RawMessage(`{}`)
	}
	b, err := json.Marshal(md)
	if err != nil {
		// Metadata is decoded from JSON, so it always encodes; keep serving without it.
		return json.RawMessage(`{}`)
	}
	return b
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

func compact(raw json.RawMessage) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
