// Package flageval resolves one flagd flag the way Switchyard's evaluation module does:
// its state, its default variant, its targeting rule (compiled once by
// contracts/targeting) and the reason and error code of every outcome. The server
// builds its pre-encoded answers on it and the Go SDK's local evaluation evaluates with
// it (through Answers, which maps every resolution to the SDK's decoded form once), so
// that both answer alike from the same definition.
//
// What it decides, in order:
//
//   - a state other than ENABLED or DISABLED: GENERAL error;
//   - DISABLED: reason DISABLED and no value (the caller's code default);
//   - no default variant (null): reason DEFAULT and no value (the code default);
//   - a default variant whose value is not valid JSON, or that is not a variant: GENERAL;
//   - a rule that does not compile: PARSE_ERROR on every evaluation;
//   - no rule (absent, null, {}): reason STATIC with the default variant;
//   - a rule: TARGETING_MATCH with the variant it chose (GENERAL when the flag has no
//     such variant), DEFAULT with the default variant when it chose none, or its
//     evaluation error (GENERAL or INVALID_CONTEXT).
//
// Metadata is not decided here: results carry the flag set's metadata with the flag's
// own laid over it (see contracts/snapshotv1.Snapshot.MergedMetadata).
package flageval

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

// Result is one resolution: a success (ErrorCode empty; Value nil means the caller's
// code default) or a failure.
type Result struct {
	Reason       string          // ofrepv1.Reason*; empty on failure
	Variant      *string         // the variant served; nil when none
	Value        json.RawMessage // the variant's compact JSON value; nil for the code default
	ErrorCode    string          // ofrepv1.Error*; empty on success
	ErrorDetails string
}

// Flag is one definition compiled for resolution. It is immutable and safe for
// concurrent use.
type Flag struct {
	Key            string
	State          string
	DefaultVariant *string
	Variants       map[string]json.RawMessage // compact JSON values
	// Targeted reports a non-empty targeting rule in the definition (even one that
	// compiled to a constant, or did not compile).
	Targeted bool

	rule *targeting.Rule // nil when static answers every evaluation
	// static is the answer whenever rule is nil, noMatch when the rule chose no variant,
	// matches when it chose one.
	answerSet[Result]
}

// Compile compiles key's definition with the shared rules its targeting may reference.
// It never fails: a definition that cannot be served compiles to a flag whose every
// resolution is the failure that says why.
func Compile(key string, def flagsv1.Definition, evaluators map[string]json.RawMessage) *Flag {
	f := &Flag{
		Key:      key,
		State:    def.State,
		Variants: make(map[string]json.RawMessage, len(def.Variants)),
		Targeted: HasTargeting(def.Targeting),
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
	f.static = f.staticResult(invalid)
	if f.Targeted && f.State == flagsv1.StateEnabled && f.static.ErrorCode == "" {
		f.compileRule(def.Targeting, evaluators)
	}
	return f
}

// compileRule compiles the flag's targeting and decides every answer it can lead to. A
// rule that does not compile makes every resolution a PARSE_ERROR, as flagd does.
func (f *Flag) compileRule(rule json.RawMessage, evaluators map[string]json.RawMessage) {
	compiled, err := targeting.Compile(rule, evaluators)
	if err != nil {
		f.static = Failure(ofrepv1.ErrorParse, fmt.Sprintf("flag '%s' has an invalid targeting rule: %v", f.Key, err))
		return
	}
	if compiled.Static() {
		return
	}
	f.rule = compiled
	f.noMatch = f.static // DEFAULT with the default variant, or the code default
	f.matches = make(map[string]Result, len(f.Variants))
	for name, value := range f.Variants {
		variant := name
		f.matches[name] = Result{Reason: ofrepv1.ReasonTargetingMatch, Variant: &variant, Value: value}
	}
}

// Static returns the flag's resolution when it does not depend on the context (no rule
// to run); ok is false when it does.
func (f *Flag) Static() (res Result, ok bool) { return f.static, f.rule == nil }

// NoMatch returns the resolution when the flag's rule chooses no variant.
func (f *Flag) NoMatch() Result { return f.noMatch }

// Matches returns the resolution for every variant the rule may choose, by name. The map
// is shared: do not modify it.
func (f *Flag) Matches() map[string]Result { return f.matches }

// Outcome says how Decide resolved a flag.
type Outcome int

// The outcomes of Decide.
const (
	OutcomeStatic  Outcome = iota // Static() answers
	OutcomeNoMatch                // NoMatch() answers
	OutcomeMatch                  // Matches()[variant] answers
	OutcomeFailed                 // the failure returned answers
)

// Decide runs the flag's rule on evalCtx (decoded JSON; nil is an empty context) at now
// (Unix seconds, $flagd.timestamp) and says which answer applies: the server maps the
// outcome to answers it encoded once. Only OutcomeFailed comes with a Result.
func (f *Flag) Decide(evalCtx map[string]any, now int64) (outcome Outcome, variant string, failure Result) {
	if f.rule == nil {
		return OutcomeStatic, "", Result{}
	}
	res, err := f.rule.Evaluate(targeting.Input{FlagKey: f.Key, Context: evalCtx, Timestamp: now})
	if err != nil {
		code, details := ofrepv1.ErrorGeneral, err.Error()
		var ee *targeting.EvalError
		if errors.As(err, &ee) {
			code, details = ee.Code, ee.Msg
		}
		return OutcomeFailed, "", Failure(code, fmt.Sprintf("flag '%s': %s", f.Key, details))
	}
	if res.Outcome == targeting.NoMatch {
		return OutcomeNoMatch, "", Result{}
	}
	if _, ok := f.matches[res.Variant]; ok {
		return OutcomeMatch, res.Variant, Result{}
	}
	return OutcomeFailed, "", Failure(ofrepv1.ErrorGeneral,
		fmt.Sprintf("flag '%s': targeting chose variant '%s', which the flag does not have", f.Key, res.Variant))
}

// Evaluate resolves the flag for evalCtx at now. A flag without a rule costs nothing
// (no allocation); a rule allocates only what its failure messages need.
func (f *Flag) Evaluate(evalCtx map[string]any, now int64) Result {
	if f.rule == nil {
		return f.static
	}
	return f.pick(f, evalCtx, now, identity)
}

// Answers is a Flag whose every resolution is turned once, when it is built, into the
// caller's own form of an answer (T: an encoded OFREP item, an SDK's decoded value...),
// so that an evaluation costs what the flag's rule costs and no more: Evaluate hands
// out those answers and builds one only for a failure met while evaluating. It is
// immutable and safe for concurrent use when the answers are.
type Answers[T any] struct {
	flag   *Flag
	answer func(Result) T
	ruled  bool // the flag has a rule to run: static does not answer every evaluation
	answerSet[T]
}

// NewAnswers builds f's answers with answer, called once for each resolution f can
// reach without running its rule (Static, NoMatch, Matches) and then for each failure
// its rule meets while evaluating.
func NewAnswers[T any](f *Flag, answer func(Result) T) *Answers[T] {
	static, isStatic := f.Static()
	a := &Answers[T]{flag: f, answer: answer, ruled: !isStatic}
	a.static = answer(static)
	if a.ruled {
		a.noMatch = answer(f.noMatch)
		a.matches = make(map[string]T, len(f.matches))
		for name, res := range f.matches {
			a.matches[name] = answer(res)
		}
	}
	return a
}

// Static returns the answer when it does not depend on the context or the time (the
// flag has no rule to run); ok is false when it does, and Evaluate must run the rule.
func (a *Answers[T]) Static() (answer T, ok bool) { return a.static, !a.ruled }

// Evaluate returns the answer for evalCtx (decoded JSON; nil is an empty context) at
// now (Unix seconds, $flagd.timestamp): the one built for the resolution Decide
// reaches, or, for a failure, answer(failure).
func (a *Answers[T]) Evaluate(evalCtx map[string]any, now int64) T {
	if !a.ruled {
		return a.static
	}
	return a.pick(a.flag, evalCtx, now, a.answer)
}

// answerSet holds a flag's answers, one per resolution it can reach without running its
// rule: Flag's are Results, an Answers' the caller's form of them.
type answerSet[T any] struct {
	static  T
	noMatch T
	matches map[string]T
}

// pick maps the outcome of f.Decide to the answer s holds for it, or failed(failure).
func (s *answerSet[T]) pick(f *Flag, evalCtx map[string]any, now int64, failed func(Result) T) T {
	switch outcome, variant, failure := f.Decide(evalCtx, now); outcome {
	case OutcomeStatic:
		return s.static
	case OutcomeNoMatch:
		return s.noMatch
	case OutcomeMatch:
		return s.matches[variant]
	default:
		return failed(failure)
	}
}

func identity(r Result) Result { return r }

// Failure returns a failed resolution.
func Failure(code, details string) Result { return Result{ErrorCode: code, ErrorDetails: details} }

func (f *Flag) staticResult(invalidVariants []string) Result {
	switch f.State {
	case flagsv1.StateDisabled:
		return Result{Reason: ofrepv1.ReasonDisabled}
	case flagsv1.StateEnabled:
	default:
		return Failure(ofrepv1.ErrorGeneral, fmt.Sprintf("flag '%s' has an unknown state '%s'", f.Key, f.State))
	}
	if f.DefaultVariant == nil {
		return Result{Reason: ofrepv1.ReasonDefault}
	}
	if slices.Contains(invalidVariants, *f.DefaultVariant) {
		return Failure(ofrepv1.ErrorGeneral,
			fmt.Sprintf("flag '%s' has a default variant '%s' whose value is not valid JSON", f.Key, *f.DefaultVariant))
	}
	value, ok := f.Variants[*f.DefaultVariant]
	if !ok {
		return Failure(ofrepv1.ErrorGeneral,
			fmt.Sprintf("flag '%s' has a default variant '%s' that is not one of its variants", f.Key, *f.DefaultVariant))
	}
	if f.Targeted {
		return Result{Reason: ofrepv1.ReasonDefault, Variant: f.DefaultVariant, Value: value}
	}
	return Result{Reason: ofrepv1.ReasonStatic, Variant: f.DefaultVariant, Value: value}
}

// HasTargeting reports whether raw is a targeting rule: not absent, null or {}.
func HasTargeting(raw json.RawMessage) bool {
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
