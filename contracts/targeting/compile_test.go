package targeting_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/targeting"
)

func TestCompileErrors(t *testing.T) {
	evaluators := map[string]json.RawMessage{
		"a":      json.RawMessage(`{"$ref": "b"}`),
		"b":      json.RawMessage(`{"or": [true, {"$ref": "a"}]}`),
		"self":   json.RawMessage(`{"$ref": "self"}`),
		"broken": json.RawMessage(`{"in": ["x"]}`),
		"empty":  json.RawMessage(`{}`),
		"bad":    json.RawMessage(`{"in": [`),
	}
	for _, tc := range []struct {
		name, rule, path, msg string
	}{
		{"unknown operator", `{"startswith": ["a", "b"]}`, "targeting.startswith", `unknown operator "startswith"`},
		{"legacy fractionalEvaluation", `{"fractionalEvaluation": ["email", ["a", 100]]}`, "targeting.fractionalEvaluation", `unknown operator "fractionalEvaluation"`},
		{"unknown nested operator", `{"if": [{"regex": ["a"]}, "x"]}`, "targeting.if[0].regex", `unknown operator "regex"`},
		{"two keys", `{"if": [true, "a"], "var": "x"}`, "targeting", `an operation has exactly one key, got ["if" "var"]`},
		{"non-integer weight", `{"if": [true, {"fractional": [{"var": "x"}, ["a", 50.5], ["b", 49.5]]}]}`, "targeting.if[1].fractional[1][1]", "fractional weight must be an integer, got 50.5"},
		{"string weight", `{"fractional": [["a", "50"], ["b", 50]]}`, "targeting.fractional[0][1]", `fractional weight must be an integer, got "50"`},
		{"weight too large", `{"fractional": [["a", 3000000000]]}`, "targeting.fractional[0][1]", "fractional weight 3000000000 is more than 2147483647"},
		{"weights sum too large", `{"fractional": [["a", 2000000000], ["b", 2000000000]]}`, "targeting.fractional", "fractional weights sum to 4000000000, more than 2147483647"},
		{"bucket too long", `{"fractional": [["a", 50, 1]]}`, "targeting.fractional[0]", "a fractional bucket is [variant] or [variant, weight], got an array"},
		{"bucket not an array", `{"fractional": [{"var": "x"}, "a"]}`, "targeting.fractional[1]", `a fractional bucket is [variant] or [variant, weight], got "a"`},
		{"no buckets", `{"fractional": [{"var": "x"}]}`, "targeting.fractional", "fractional needs at least one [variant, weight] bucket"},
		{"number as bucketing value", `{"fractional": [42, ["a", 1]]}`, "targeting.fractional[0]", "fractional bucketing value must be a string, got 42"},
		{"array variant", `{"fractional": [[["x"], 1]]}`, "targeting.fractional[0][0]", "fractional variant must be a string, boolean, number or null"},
		{"bad sem_ver operator", `{"sem_ver": [{"var": "v"}, "==", "1.0.0"]}`, "targeting.sem_ver[1]", `sem_ver operator must be one of = != < <= > >= ~ ^, got "=="`},
		{"sem_ver arity", `{"sem_ver": [{"var": "v"}, "="]}`, "targeting.sem_ver", "sem_ver takes 3 arguments, got 2"},
		{"starts_with arity", `{"starts_with": ["abc"]}`, "targeting.starts_with", "starts_with takes 2 arguments, got 1"},
		{"== arity", `{"==": [1, 2, 3]}`, "targeting.==", "== takes 2 arguments, got 3"},
		{"> has no between form", `{">": [3, 2, 1]}`, "targeting.>", "> takes 2 arguments, got 3"},
		{"< arity", `{"<": [1]}`, "targeting.<", "< takes 2 to 3 arguments, got 1"},
		{"! arity", `{"!": [1, 2]}`, "targeting.!", "! takes 1 arguments, got 2"},
		{"and arity", `{"and": []}`, "targeting.and", "and takes at least 1 arguments, got 0"},
		{"var arity", `{"var": ["a", 1, 2]}`, "targeting.var", "var takes 0 to 2 arguments, got 3"},
		{"substr arity", `{"substr": ["a"]}`, "targeting.substr", "substr takes 2 to 3 arguments, got 1"},
		{"missing evaluator", `{"if": [{"$ref": "nope"}, "a"]}`, "targeting.if[0].$ref", `$ref to missing evaluator "nope"`},
		{"$ref not a string", `{"$ref": 1}`, "targeting.$ref", "$ref must name an evaluator, got 1"},
		{"$ref cycle", `{"$ref": "a"}`, "$evaluators.b.or[1].$ref", "$ref cycle: a -> b -> a"},
		{"$ref to itself", `{"!": {"$ref": "self"}}`, "$evaluators.self.$ref", "$ref cycle: self -> self"},
		{"error inside an evaluator", `{"if": [{"$ref": "broken"}, "a"]}`, "$evaluators.broken.in", "in takes 2 arguments, got 1"},
		{"empty evaluator", `{"$ref": "empty"}`, "$evaluators.empty", "evaluator is empty"},
		{"evaluator not JSON", `{"$ref": "bad"}`, "$evaluators.bad", "invalid JSON"},
		{"not JSON", `{"if": [`, "targeting", "invalid JSON"},
		{"trailing data", `{"if": []} {}`, "targeting", "invalid JSON: data after the rule"},
		{"too deep", strings.Repeat(`{"!": `, 70) + "true" + strings.Repeat("}", 70), "", "rule is nested deeper than 64 levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := targeting.Compile(json.RawMessage(tc.rule), evaluators)
			var ce *targeting.CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%s) error = %v, want *CompileError", tc.rule, err)
			}
			if tc.path != "" && ce.Path != tc.path {
				t.Errorf("Path = %q, want %q", ce.Path, tc.path)
			}
			if !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("Msg = %q, want it to contain %q", ce.Msg, tc.msg)
			}
			if ce.Error() != ce.Path+": "+ce.Msg {
				t.Errorf("Error() = %q", ce.Error())
			}
		})
	}
}

// A chain of evaluators that each use the previous one eight times expands
// exponentially; Compile must refuse it instead of building (or later evaluating) 8^20
// operations.
func TestCompileRejectsExponentialRefs(t *testing.T) {
	evaluators := map[string]json.RawMessage{"e0": json.RawMessage(`{"var": "x"}`)}
	for i := 1; i <= 20; i++ {
		prev := fmt.Sprintf(`{"$ref": "e%d"}`, i-1)
		evaluators[fmt.Sprintf("e%d", i)] = json.RawMessage(`{"and": [` + strings.Repeat(prev+`, `, 7) + prev + `]}`)
	}
	_, err := targeting.Compile(json.RawMessage(`{"$ref": "e20"}`), evaluators)
	var ce *targeting.CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "more than 100000 operations") {
		t.Fatalf("Compile error = %v, want the operation limit", err)
	}
}

func TestVariants(t *testing.T) {
	evaluators := map[string]json.RawMessage{"beta": json.RawMessage(`{"in": ["beta", {"var": "groups"}]}`)}
	for _, tc := range []struct {
		name, rule string
		want       []string
		complete   bool
	}{
		{"static", `{}`, nil, true},
		{"if chain", `{"if": [{"$ref": "beta"}, "b", {"==": [1, 1]}, "a", "c"]}`, []string{"a", "b", "c"}, true},
		{"if without else", `{"if": [true, "on"]}`, []string{"on"}, true},
		{"booleans", `{"if": [true, true, false]}`, []string{"false", "true"}, true},
		{"comparison", `{"sem_ver": [{"var": "v"}, ">", "1.0.0"]}`, []string{"false", "true"}, true},
		{"fractional", `{"fractional": [["red", 50], ["blue", 50]]}`, []string{"blue", "red"}, true},
		{"fractional in if", `{"if": [{"$ref": "beta"}, {"fractional": [["x"], ["y"]]}, null]}`, []string{"x", "y"}, true},
		{"or", `{"or": [{"var": "v"}, "z"]}`, nil, false},
		{"var", `{"var": "variant"}`, nil, false},
		{"fractional with computed variant", `{"fractional": [[{"var": "c"}, 1], ["b", 1]]}`, nil, false},
		{"cat", `{"cat": ["a", "b"]}`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := targeting.Compile(json.RawMessage(tc.rule), evaluators)
			if err != nil {
				t.Fatal(err)
			}
			got, complete := r.Variants()
			if complete != tc.complete || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Variants() = %v, %v; want %v, %v", got, complete, tc.want, tc.complete)
			}
		})
	}
}
