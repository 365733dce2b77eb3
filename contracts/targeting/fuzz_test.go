package targeting

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// fuzzRules seed both fuzz targets: every operator, flagd's examples, and edge cases.
var fuzzRules = []string{
	`{}`, `null`, `"on"`, `[1, {"var": "a"}]`,
	`{"var": "a.b.0"}`, `{"var": ["x", {"cat": ["d", 1]}]}`, `{"var": ""}`, `{"var": {"var": "p"}}`,
	`{"missing": ["a", "b.c"]}`, `{"missing_some": [1, ["a", "b"]]}`,
	`{"if": [{"==": [{"var": "a"}, 1]}, "one", {"===": [{"var": "a"}, "1"]}, "string one", null]}`,
	`{"and": [{"!=": [1, 2]}, {"!==": [1, "1"]}, {"!": [false]}, {"!!": [[]]}]}`,
	`{"or": [{"<": [1, {"var": "n"}, 10]}, {"<=": [1, 2]}, {">": [3, 2]}, {">=": [3, 3]}]}`,
	`{"in": [{"var": "email"}, ["a", "b", "c", "d", "e", "f", "g", "h"]]}`, `{"in": ["@x", {"var": "email"}]}`,
	`{"cat": [{"substr": [{"var": "s"}, -3, -1]}, {"+": [1, "2"]}, {"-": [3]}, {"*": [2, 3]}, {"/": [1, 0]}, {"%": [5, 0]}]}`,
	`{"min": [1, {"var": "n"}]}`, `{"max": [{"var": "n"}, 2]}`, `{"merge": [[1], 2, {"var": "xs"}]}`,
	`{"map": [{"var": "xs"}, {"map": [{"var": "xs"}, {"var": ""}]}]}`,
	`{"filter": [{"var": "xs"}, {"var": ""}]}`, `{"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}`,
	`{"all": [{"var": "xs"}, {"var": ""}]}`, `{"none": [[1], false]}`, `{"some": [{"var": "xs"}, true]}`,
	`{"fractional": [["a", 50], ["b", 50]]}`, `{"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "u"}]}, ["a", 1], [true]]}`,
	`{"fractional": [{"var": "u"}, [{"var": "v"}, {"var": "w"}], ["b", {"if": [true, 3, 0]}]]}`,
	`{"sem_ver": [{"var": "version"}, "^", "1.2"]}`, `{"sem_ver": [{"var": "version"}, {"var": "op"}, {"var": "other"}]}`,
	`{"starts_with": [{"var": "s"}, "a"]}`, `{"ends_with": [{"var": "s"}, {"var": "t"}]}`,
	`{"if": [{"$ref": "shared"}, "yes", "no"]}`,
}

var fuzzContexts = []string{
	`{}`, `{"a": 1, "n": 5, "s": "héllo😀", "email": "x@y.com", "version": "1.2.3", "xs": [1, 2, 3]}`,
	`{"targetingKey": "user-1", "u": "k", "v": "red", "w": 3, "op": "<", "other": "2.0"}`,
	`{"a": "1", "n": "NaN", "xs": [[], {}, null, "s"], "version": 1.5, "$flagd": {"flagKey": "x"}}`,
	`{"a": null, "s": 7, "t": null, "xs": "not an array", "p": "a", "targetingKey": 3}`,
}

var fuzzEvaluators = map[string]json.RawMessage{
	"shared": json.RawMessage(`{"ends_with": [{"var": "email"}, "@y.com"]}`),
}

// FuzzCompile: Compile never panics, and a rule it accepts evaluates on an empty context.
func FuzzCompile(f *testing.F) {
	for _, r := range fuzzRules {
		f.Add([]byte(r))
	}
	f.Fuzz(func(t *testing.T, rule []byte) {
		r, err := Compile(rule, fuzzEvaluators)
		if err != nil {
			if _, ok := err.(*CompileError); !ok {
				t.Fatalf("Compile error %T is not *CompileError", err)
			}
			return
		}
		checkEvaluation(t, r, Input{FlagKey: "f"})
	})
}

// FuzzEvaluate: evaluating a seed rule against any context never panics, is
// deterministic, and stays within the step budget.
func FuzzEvaluate(f *testing.F) {
	for i := range fuzzRules {
		f.Add(uint8(i), []byte(fuzzContexts[i%len(fuzzContexts)]))
	}
	rules := make([]*Rule, len(fuzzRules))
	for i, src := range fuzzRules {
		r, err := Compile(json.RawMessage(src), fuzzEvaluators)
		if err != nil {
			f.Fatalf("seed rule %s: %v", src, err)
		}
		rules[i] = r
	}
	f.Fuzz(func(t *testing.T, which uint8, ctxJSON []byte) {
		dec := json.NewDecoder(bytes.NewReader(ctxJSON))
		if which%2 == 0 {
			dec.UseNumber()
		}
		var ctx map[string]any
		if dec.Decode(&ctx) != nil {
			return
		}
		checkEvaluation(t, rules[int(which)%len(rules)], Input{FlagKey: "fuzz", Context: ctx, Timestamp: 1})
	})
}

func checkEvaluation(t *testing.T, r *Rule, in Input) {
	t.Helper()
	if r.static {
		return
	}
	first, firstErr, steps := evalUnguarded(r, in)
	if steps > maxSteps {
		t.Fatalf("evaluation took %d steps, more than the budget %d", steps, maxSteps)
	}
	second, secondErr, _ := evalUnguarded(r, in)
	if first != second || !reflect.DeepEqual(firstErr, secondErr) {
		t.Fatalf("evaluation is not deterministic: %+v/%v then %+v/%v", first, firstErr, second, secondErr)
	}
	if res, err := r.Evaluate(in); res != first || !reflect.DeepEqual(err, firstErr) {
		t.Fatalf("Evaluate = %+v/%v, unguarded evaluation = %+v/%v", res, err, first, firstErr)
	}
}

// evalUnguarded evaluates without Evaluate's recover, so that a panic fails the fuzzer.
func evalUnguarded(r *Rule, in Input) (Result, error, int) {
	e := &env{flagKey: in.FlagKey, ctx: in.Context, ts: in.Timestamp, root: true}
	res, err := e.result(r.root.eval(e))
	return res, err, e.steps
}
