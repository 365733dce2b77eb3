package targeting

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
)

// Input is what one evaluation sees. Context is the caller's evaluation context as
// decoded JSON (map[string]any holding float64 or json.Number numbers; Go integer types
// are accepted too). The engine injects $flagd.flagKey and $flagd.timestamp itself and
// never modifies Context.
type Input struct {
	FlagKey   string
	Context   map[string]any
	Timestamp int64 // unix seconds, exposed as $flagd.timestamp
}

// Outcome says how a rule decided.
type Outcome int

const (
	// NoMatch: the rule returned null or no branch matched; the caller serves the
	// default variant with reason DEFAULT (STATIC when Rule.Static reports true).
	NoMatch Outcome = iota
	// Match: the rule chose Variant; flagd reports reason TARGETING_MATCH.
	Match
	// Split is never returned: flagd reports TARGETING_MATCH for variants chosen by
	// fractional, and so does this engine. It stays so that callers' switches compile.
	Split
)

// Result is the decision of one evaluation.
type Result struct {
	Outcome Outcome
	// Variant is the chosen variant name. A rule returning true/false chooses the
	// variant "true"/"false", and a number chooses the variant named by its JavaScript
	// string form, as in flagd. The caller checks that the variant exists.
	Variant string
}

// EvalError is a rule that could not be evaluated. Code is an OpenFeature error code:
// GENERAL or INVALID_CONTEXT.
type EvalError struct {
	Code string
	Msg  string
}

func (e *EvalError) Error() string { return e.Code + ": " + e.Msg }

// Error codes an EvalError carries.
const (
	CodeGeneral        = "GENERAL"
	CodeInvalidContext = "INVALID_CONTEXT"
)

// CompileError is a rule that cannot be compiled, with the JSON path of the offending
// element, e.g. "targeting.if[0].fractional[1][1]" or "$evaluators.emailRule.in[1]".
type CompileError struct {
	Path string
	Msg  string
}

func (e *CompileError) Error() string { return e.Path + ": " + e.Msg }

// Rule is a compiled targeting rule. It is immutable and safe for concurrent use.
type Rule struct {
	root   node
	static bool
	envs   sync.Pool // *env, reused across evaluations so that Evaluate does not allocate
}

// Static reports whether the rule is absent (nil, empty, null or {}): flagd reports
// reason STATIC for such a flag instead of DEFAULT.
func (r *Rule) Static() bool { return r.static }

// Evaluate runs the rule. It never panics. A rule whose custom operator fails on its
// input (a context value that is not a string or not a version, a missing bucketing
// key, all-zero weights) evaluates to null as a whole, i.e. NoMatch, as flagd does.
// Errors are *EvalError.
func (r *Rule) Evaluate(in Input) (res Result, err error) {
	if r.static {
		return Result{Outcome: NoMatch}, nil
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = Result{}, &EvalError{Code: CodeGeneral, Msg: fmt.Sprintf("targeting evaluation failed: %v", p)}
		}
	}()
	e := r.getEnv(in)
	v := r.root.eval(e)
	res, err = e.result(v)
	r.putEnv(e)
	return res, err
}

func (r *Rule) getEnv(in Input) *env {
	e, _ := r.envs.Get().(*env)
	if e == nil {
		e = new(env)
	}
	*e = env{flagKey: in.FlagKey, ctx: in.Context, ts: in.Timestamp, root: true}
	return e
}

func (r *Rule) putEnv(e *env) {
	*e = env{}
	r.envs.Put(e)
}

// result maps the rule's value to a Result the way flagd reads a targeting result.
func (e *env) result(v value) (Result, error) {
	if e.err != nil {
		return Result{}, e.err
	}
	if e.halted {
		return Result{Outcome: NoMatch}, nil
	}
	switch v.k {
	case kNull:
		return Result{Outcome: NoMatch}, nil
	case kStr:
		return Result{Outcome: Match, Variant: v.s}, nil
	case kBool:
		if v.flag() {
			return Result{Outcome: Match, Variant: "true"}, nil
		}
		return Result{Outcome: Match, Variant: "false"}, nil
	case kNum:
		if math.IsNaN(v.n) || math.IsInf(v.n, 0) {
			return Result{}, &EvalError{Code: CodeGeneral, Msg: "targeting returned a number that is not finite"}
		}
		return Result{Outcome: Match, Variant: jsNumberString(v.n)}, nil
	}
	return Result{}, &EvalError{Code: CodeGeneral, Msg: "targeting returned an array or object, not a variant name"}
}

// Compile parses and compiles a flagd targeting rule once. evaluators are the flag set's
// shared rules ($evaluators), referenced from the rule as {"$ref": "name"} and resolved
// now. A nil, empty, null or {} rule compiles to a rule that always returns NoMatch.
// Errors are *CompileError.
func Compile(rule json.RawMessage, evaluators map[string]json.RawMessage) (*Rule, error) {
	doc, err := decodeJSON(rule)
	if err != nil {
		return nil, &CompileError{Path: "targeting", Msg: err.Error()}
	}
	if isEmptyRule(doc) {
		return &Rule{static: true}, nil
	}
	c := newCompiler(evaluators)
	root, err := c.compile(doc, "targeting", 0)
	if err != nil {
		return nil, err
	}
	return &Rule{root: root}, nil
}

func isEmptyRule(doc any) bool {
	if doc == nil {
		return true
	}
	m, ok := doc.(map[string]any)
	return ok && len(m) == 0
}
