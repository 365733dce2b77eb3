package snapshot

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchyardhq/switchyard/contracts/flageval"
	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// Result is one flag's evaluation, already encoded as an OFREP item: a success
// (ErrorCode empty) or a failure (Reason ERROR).
type Result struct {
	Body      []byte
	Reason    string
	ErrorCode string
}

// Flag is one definition compiled for evaluation: contracts/flageval decides, and every
// answer it can decide on is encoded here once.
type Flag struct {
	Key      string
	State    string
	Metadata json.RawMessage // encoded object, "{}" when the flag has none

	eval  *flageval.Flag
	ruled bool // the answer depends on the context: eval has a rule to run

	// result is the flag's evaluation whenever it does not depend on the context
	// (disabled, no rule, or a definition that cannot be served).
	result Result
	// noMatch is the answer when the rule returns no variant (DEFAULT), and matches the
	// answer per variant the rule can choose (TARGETING_MATCH).
	noMatch Result
	matches map[string]Result

	// source is what the flag was compiled from, and definition its Definition encoded
	// once here, for the definitions snapshot (see Snapshot.Definitions).
	source     Source
	definition json.RawMessage
}

// Source is what a flag is compiled from: its definition, the shared rules its
// targeting references, and its flag set's metadata, as of its last event, which the
// module applied at Changed.
type Source struct {
	Definition      flagsv1.Definition
	Evaluators      map[string]json.RawMessage
	FlagSetMetadata map[string]any
	Changed         time.Time
}

// Compile turns a definition into a Flag. It never fails: a definition that cannot be
// served (unknown state, a default variant that is not a variant, a rule that does not
// compile) compiles to a flag whose evaluation is that error, so one bad flag never
// stops a projection.
func Compile(key string, src Source) *Flag {
	ev := flageval.Compile(key, src.Definition, src.Evaluators)
	f := &Flag{
		Key:      key,
		State:    src.Definition.State,
		Metadata: encodeMetadata(mergeMetadata(src.FlagSetMetadata, src.Definition.Metadata)),
		eval:     ev,
		source:   src,
	}
	static, isStatic := ev.Static()
	f.result = f.encode(static)
	if !isStatic {
		f.ruled = true
		f.noMatch = f.encode(ev.NoMatch())
		f.matches = make(map[string]Result, len(ev.Matches()))
		for name, res := range ev.Matches() {
			f.matches[name] = f.encode(res)
		}
	}
	if raw, err := json.Marshal(src.Definition); err == nil {
		// Every part was decoded from JSON, so it encodes; a flag that did not would be
		// left out of the definitions snapshot rather than stop the projection.
		f.definition = raw
	}
	return f
}

// Evaluate evaluates the flag for one request. Only a targeted flag reads the request's
// context, and the context is decoded at most once per request.
func (f *Flag) Evaluate(req *Request) Result {
	if !f.ruled {
		return f.result
	}
	evalCtx, err := req.decoded()
	if err != nil {
		return f.failure(ofrepv1.ErrorInvalidContext, err.Error())
	}
	switch outcome, variant, failure := f.eval.Decide(evalCtx, req.now); outcome {
	case flageval.OutcomeNoMatch:
		return f.noMatch
	case flageval.OutcomeMatch:
		return f.matches[variant]
	case flageval.OutcomeStatic:
		return f.result
	default:
		return f.failure(failure.ErrorCode, failure.ErrorDetails)
	}
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

// encode encodes a resolution as the OFREP item of this flag.
func (f *Flag) encode(res flageval.Result) Result {
	if res.ErrorCode != "" {
		return f.failure(res.ErrorCode, res.ErrorDetails)
	}
	return Result{Body: mustEncode(item{Key: f.Key, Reason: res.Reason, Variant: res.Variant, Value: res.Value, Metadata: f.Metadata}),
		Reason: res.Reason}
}

func (f *Flag) failure(code, details string) Result {
	return Result{Body: Failure(f.Key, code, details), Reason: ofrepv1.ReasonError, ErrorCode: code}
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
