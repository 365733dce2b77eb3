package sdk

import (
	"encoding/json"
	"math"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/sdk/internal/flageval"
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
// points at a Decision that may be shared (a local evaluation's): never modify it.
type answer struct {
	d        *flageval.Decision
	metadata map[string]any
	source   Source
	served   served
}

// served says whether an answer is fresh from its source.
type served uint8

const (
	fresh  served = iota
	cached        // from the memory or Redis cache: reason CACHED
	stale         // out of date, served because nothing else answered: reason STALE
)

// result types an answer. conv converts the variant's value, or reports a mismatch.
func result[T any](a answer, def T, conv func(*flageval.Variant) (T, bool)) Result[T] {
	d := a.d
	r := Result[T]{
		Value: def, Reason: d.Reason, EvaluatedReason: d.Reason, Source: a.source, Metadata: a.metadata,
		ErrorCode: d.ErrorCode, ErrorMessage: d.ErrorDetails,
	}
	if d.ErrorCode != "" {
		r.Reason = ReasonError
		return r
	}
	switch a.served {
	case cached:
		r.Reason = ReasonCached
	case stale:
		r.Reason = ReasonStale
	}
	if d.Variant == nil {
		return r
	}
	v, ok := conv(d.Variant)
	if !ok {
		r.Reason, r.ErrorCode = ReasonError, ofrepv1.ErrorTypeMismatch
		r.ErrorMessage = "the flag's value " + string(d.Variant.Raw) + " is not of the type asked for"
		return r
	}
	r.Value, r.Variant = v, d.Variant.Name
	return r
}

func toBool(v *flageval.Variant) (bool, bool) { b, ok := v.Value.(bool); return b, ok }

func toString(v *flageval.Variant) (string, bool) { s, ok := v.Value.(string); return s, ok }

func toFloat(v *flageval.Variant) (float64, bool) { f, ok := v.Value.(float64); return f, ok }

func toInt(v *flageval.Variant) (int64, bool) {
	f, ok := v.Value.(float64)
	if !ok || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// toObject decodes the raw value afresh, so that callers may modify what they get.
func toObject(v *flageval.Variant) (any, bool) {
	var out any
	if err := json.Unmarshal(v.Raw, &out); err != nil {
		return nil, false
	}
	switch out.(type) {
	case map[string]any, []any:
		return out, true
	}
	return nil, false
}
