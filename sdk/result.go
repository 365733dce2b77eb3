package sdk

import (
	"encoding/json"
	"math"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// Reasons a Result may carry beyond the evaluation's own (STATIC, DEFAULT,
// TARGETING_MATCH, DISABLED, ERROR, in contracts/ofrepv1), as OpenFeature names them.
const (
	// ReasonCached: the answer came from the memory or Redis cache, fresh.
	ReasonCached = "CACHED"
	// ReasonStale: no remote layer answered, and the answer is an expired cache entry or
	// the last good snapshot's.
	ReasonStale = "STALE"
	// ReasonError: the value is the caller's default because of ErrorCode.
	ReasonError = "ERROR"
)

// Error codes a Result may carry beyond the server's (FLAG_NOT_FOUND, PARSE_ERROR,
// TYPE_MISMATCH, TARGETING_KEY_MISSING, INVALID_CONTEXT, GENERAL in contracts/ofrepv1).
const (
	// ErrorProviderNotReady: no layer could answer (everything upstream is down and
	// nothing is cached); the value is the default.
	ErrorProviderNotReady = "PROVIDER_NOT_READY"
)

// Result is one evaluation. It never needs handling to stay up: on any failure Value is
// the caller's default, Reason is ERROR and ErrorCode says why.
type Result[T any] struct {
	// Value is the flag's value, or the caller's default when the flag is disabled, has
	// no default variant, or on an error.
	Value T
	// Variant is the variant served; empty with the caller's default.
	Variant string
	// Reason is why Value was chosen: STATIC, DEFAULT, TARGETING_MATCH, DISABLED (from
	// the evaluation), CACHED, STALE or ERROR.
	Reason string
	// EvaluatedReason is the reason the evaluation gave, also when Reason is CACHED or
	// STALE; empty when nothing was evaluated.
	EvaluatedReason string
	// ErrorCode is an OpenFeature error code (FLAG_NOT_FOUND, TYPE_MISMATCH, ...) when
	// Reason is ERROR.
	ErrorCode string
	// ErrorMessage explains ErrorCode to a person.
	ErrorMessage string
	// Source is the layer that answered.
	Source Source
	// Metadata is the flag's metadata. It is shared: do not modify it.
	Metadata map[string]any
}

// answer is what a layer says about one flag for one context, before it is typed. It
// points at a decision that may be shared (a local evaluation's): never modify it.
type answer struct {
	d        *decision
	metadata map[string]any
	source   Source
	served   served
}

// decision is one resolution in the SDK's form: a success (errorCode empty) whose value
// is nil when the caller's default applies (DISABLED, no default variant), or a failure.
// The decisions of a local flag are built once and shared by all its evaluations.
type decision struct {
	reason       string
	variant      string // empty when value is nil
	value        *value
	errorCode    string
	errorDetails string
}

// value is a variant's value, decoded once into what each typed method returns, so
// that typing an answer is a field read.
type value struct {
	raw     json.RawMessage
	kind    valueKind
	boolean bool
	str     string
	number  float64
	integer int64 // when isInt: number is a whole number that fits an int64
	isInt   bool
}

type valueKind uint8

const (
	kindOther valueKind = iota // JSON null: no typed method takes it
	kindBool
	kindString
	kindNumber
	kindObject // a JSON object or array
)

// newDecision is a success: reason, and the variant served with its JSON value. An
// absent or null value is the caller's default (no variant), as OFREP reports it.
func newDecision(reason, variant string, raw json.RawMessage) (*decision, error) {
	d := &decision{reason: reason}
	if len(raw) == 0 || string(raw) == "null" {
		return d, nil
	}
	var decoded any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		return nil, err
	}
	v := &value{raw: raw}
	switch x := decoded.(type) {
	case bool:
		v.kind, v.boolean = kindBool, x
	case string:
		v.kind, v.str = kindString, x
	case float64:
		v.kind, v.number = kindNumber, x
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			v.integer, v.isInt = int64(x), true
		}
	case map[string]any, []any:
		v.kind = kindObject
	}
	d.variant, d.value = variant, v
	return d, nil
}

// failedDecision is a failure: the caller's default because of code.
func failedDecision(code, details string) *decision {
	return &decision{reason: ReasonError, errorCode: code, errorDetails: details}
}

// served says whether an answer is fresh from its source.
type served uint8

const (
	fresh  served = iota
	cached        // from the memory or Redis cache: reason CACHED
	stale         // out of date, served because nothing else answered: reason STALE
)

// result types an answer. conv converts the variant's value, or reports a mismatch.
func result[T any](a answer, def T, conv func(*value) (T, bool)) Result[T] {
	d := a.d
	r := Result[T]{
		Value: def, Reason: d.reason, EvaluatedReason: d.reason, Source: a.source, Metadata: a.metadata,
		ErrorCode: d.errorCode, ErrorMessage: d.errorDetails,
	}
	if d.errorCode != "" {
		r.Reason = ReasonError
		return r
	}
	switch a.served {
	case cached:
		r.Reason = ReasonCached
	case stale:
		r.Reason = ReasonStale
	}
	if d.value == nil {
		return r
	}
	v, ok := conv(d.value)
	if !ok {
		r.Reason, r.ErrorCode = ReasonError, ofrepv1.ErrorTypeMismatch
		r.ErrorMessage = "the flag's value " + string(d.value.raw) + " is not of the type asked for"
		return r
	}
	r.Value, r.Variant = v, d.variant
	return r
}

func toBool(v *value) (bool, bool) { return v.boolean, v.kind == kindBool }

func toString(v *value) (string, bool) { return v.str, v.kind == kindString }

func toFloat(v *value) (float64, bool) { return v.number, v.kind == kindNumber }

func toInt(v *value) (int64, bool) { return v.integer, v.isInt }

// toObject decodes the raw value afresh, so that callers may modify what they get.
func toObject(v *value) (any, bool) {
	if v.kind != kindObject {
		return nil, false
	}
	var out any
	if err := json.Unmarshal(v.raw, &out); err != nil {
		return nil, false
	}
	return out, true
}
