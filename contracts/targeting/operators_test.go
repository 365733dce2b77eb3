package targeting_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/targeting"
)

// Expectations name the Result: a variant name, noMatch, or errGeneral/errContext.
const (
	noMatch    = "<no match>"
	errGeneral = "<error GENERAL>"
	errContext = "<error INVALID_CONTEXT>"
)

type opCase struct {
	name string
	rule string
	ctx  map[string]any
	want string
}

func runCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := evaluate(t, tc.rule, nil, tc.ctx); got != tc.want {
				t.Errorf("%s with %v = %q, want %q", tc.rule, tc.ctx, got, tc.want)
			}
		})
	}
}

func evaluate(t *testing.T, rule string, evaluators map[string]json.RawMessage, ctx map[string]any) string {
	t.Helper()
	r, err := targeting.Compile(json.RawMessage(rule), evaluators)
	if err != nil {
		t.Fatalf("Compile(%s): %v", rule, err)
	}
	res, err := r.Evaluate(targeting.Input{FlagKey: "my-flag", Context: ctx, Timestamp: 1_700_000_000})
	if err != nil {
		var ee *targeting.EvalError
		if !errors.As(err, &ee) {
			t.Fatalf("Evaluate error %T is not *EvalError", err)
		}
		return "<error " + ee.Code + ">"
	}
	switch res.Outcome {
	case targeting.NoMatch:
		return noMatch
	case targeting.Match:
		return res.Variant
	}
	t.Fatalf("unexpected outcome %v", res.Outcome)
	return ""
}

func TestVar(t *testing.T) {
	ctx := map[string]any{
		"a":     "x",
		"user":  map[string]any{"name": "ann", "tags": []any{"t0", "t1"}},
		"nul":   nil,
		"1":     "one",
		"empty": "",
		"n":     json.Number("42"),
		"i":     7,
		"xs":    []any{1.0, 2.0},
		"users": []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}},
	}
	runCases(t, []opCase{
		{"top level", `{"var": "a"}`, ctx, "x"},
		{"array form", `{"var": ["a"]}`, ctx, "x"},
		{"dotted path", `{"var": "user.name"}`, ctx, "ann"},
		{"array index in path", `{"var": "user.tags.1"}`, ctx, "t1"},
		{"index out of range", `{"var": "user.tags.2"}`, ctx, noMatch},
		{"missing", `{"var": "user.email"}`, ctx, noMatch},
		{"through a scalar", `{"var": "a.b"}`, ctx, noMatch},
		{"default when missing", `{"var": ["user.email", "none"]}`, ctx, "none"},
		{"default when null", `{"var": ["nul", "none"]}`, ctx, "none"},
		{"no default for empty string", `{"var": ["empty", "none"]}`, ctx, ""},
		{"computed default", `{"var": ["zz", {"cat": ["d", "f"]}]}`, ctx, "df"},
		{"numeric path", `{"var": 1}`, ctx, "one"},
		{"computed path", `{"var": {"cat": ["us", "er.name"]}}`, ctx, "ann"},
		{"empty path is the whole data", `{"cat": [{"var": ""}]}`, ctx, "[object Object]"},
		{"no path is the whole data", `{"!!": {"var": []}}`, ctx, "true"},
		{"whole data includes $flagd", `{"var": {"cat": ["$flagd", ".flagKey"]}}`, ctx, "my-flag"},
		{"json.Number", `{"var": "n"}`, ctx, "42"},
		{"Go int", `{"+": [{"var": "i"}, 1]}`, ctx, "8"},
		{"nil context", `{"var": ["a", "d"]}`, nil, "d"},
		{"$flagd.flagKey", `{"var": "$flagd.flagKey"}`, ctx, "my-flag"},
		{"$flagd.timestamp", `{"var": "$flagd.timestamp"}`, ctx, "1700000000"},
		{"$flagd object", `{"!!": {"var": "$flagd"}}`, ctx, "true"},
		{"$flagd unknown property", `{"var": "$flagd.nope"}`, ctx, noMatch},
		{"caller's $flagd is overwritten", `{"var": "$flagd.flagKey"}`, map[string]any{"$flagd": map[string]any{"flagKey": "evil"}}, "my-flag"},
		{"targetingKey", `{"var": "targetingKey"}`, map[string]any{"targetingKey": "tk"}, "tk"},
		{"scope inside map", `{"cat": {"map": [{"var": "users"}, {"var": "name"}]}}`, ctx, "a,b"},
		{"$flagd is not in an element's scope", `{"cat": {"map": [{"var": "users"}, {"var": "$flagd.flagKey"}]}}`, ctx, ","},
		{"not JSON in context", `{"var": "ch"}`, map[string]any{"ch": make(chan int)}, errContext},
		{"invalid json.Number", `{"var": "n"}`, map[string]any{"n": json.Number("x")}, errContext},
	})
}

func TestMissing(t *testing.T) {
	ctx := map[string]any{"a": 1.0, "e": "", "u": map[string]any{"n": "x"}}
	runCases(t, []opCase{
		{"some missing", `{"cat": {"missing": ["a", "b", "u.n", "u.m"]}}`, ctx, "b,u.m"},
		{"empty string is missing", `{"cat": {"missing": ["e"]}}`, ctx, "e"},
		{"none missing is falsy", `{"if": [{"missing": ["a"]}, "missing", "ok"]}`, ctx, "ok"},
		{"bare key", `{"cat": {"missing": "b"}}`, ctx, "b"},
		{"keys from merge", `{"cat": {"missing": {"merge": ["b", ["c", "a"]]}}}`, ctx, "b,c"},
		{"missing_some satisfied", `{"cat": {"missing_some": [1, ["a", "b", "c"]]}}`, ctx, ""},
		{"missing_some short", `{"cat": {"missing_some": [2, ["a", "b", "c"]]}}`, ctx, "b,c"},
	})
}

func TestIfAndTruthiness(t *testing.T) {
	runCases(t, []opCase{
		// flagd's flag-definitions reference, "Conditions".
		{"if true", `{"if": [true, "yes", "no"]}`, nil, "yes"},
		{"if false", `{"if": [false, "yes", "no"]}`, nil, "no"},
		{"else if", `{"if": [false, "yes", false, "no", "maybe"]}`, nil, "maybe"},
		{"else if chain", `{"if": [false, "yes", false, "no", false, "maybe", "who knows"]}`, nil, "who knows"},
		{"no else", `{"if": [false, "yes"]}`, nil, noMatch},
		{"no arguments", `{"if": []}`, nil, noMatch},
		{"one argument", `{"if": ["only"]}`, nil, "only"},
		{"ternary alias", `{"?:": [true, "a", "b"]}`, nil, "a"},
		{"null branch", `{"if": [true, null, "one"]}`, nil, noMatch},
		{"branch not evaluated", `{"if": [true, "a", {"starts_with": [1, "x"]}]}`, nil, "a"},
		{"empty array falsy", `{"!!": [[]]}`, nil, "false"},
		{"non-empty array truthy", `{"!!": [[0]]}`, nil, "true"},
		{"string 0 truthy", `{"!!": ["0"]}`, nil, "true"},
		{"empty string falsy", `{"!!": [""]}`, nil, "false"},
		{"zero falsy", `{"!!": [0]}`, nil, "false"},
		{"null falsy", `{"!!": [null]}`, nil, "false"},
		{"NaN falsy", `{"!!": [{"/": [0, 0]}]}`, nil, "false"},
		{"empty object truthy", `{"!!": [{}]}`, nil, "true"},
		{"! exists", `{"!": ["mike"]}`, nil, "false"},
		{"! empty", `{"!": [""]}`, nil, "true"},
		{"!! exists", `{"!!": ["mike"]}`, nil, "true"},
		{"! bare argument", `{"!": true}`, nil, "false"},
		{"and false", `{"and": [true, false]}`, nil, "false"},
		{"and true", `{"and": [true, true]}`, nil, "true"},
		{"or true", `{"or": [true, false]}`, nil, "true"},
		{"or false", `{"or": [false, false]}`, nil, "false"},
		{"or returns deciding value", `{"or": [false, "a", "b"]}`, nil, "a"},
		{"or returns last when all falsy", `{"or": [0, ""]}`, nil, ""},
		{"and returns last when all truthy", `{"and": ["a", "b"]}`, nil, "b"},
		{"and returns first falsy", `{"and": ["a", 0, "b"]}`, nil, "0"},
		{"and of numbers is not their max", `{"and": [1, 0, 2]}`, nil, "0"},
		{"or of nulls", `{"or": [null, null]}`, nil, noMatch},
	})
}

func TestEquality(t *testing.T) {
	runCases(t, []opCase{
		// flagd's flag-definitions reference, "Operations".
		{"== same", `{"==": [1, 1]}`, nil, "true"},
		{"== coerces", `{"==": [1, "1"]}`, nil, "true"},
		{"=== same", `{"===": [1, 1]}`, nil, "true"},
		{"=== strict", `{"===": [1, "1"]}`, nil, "false"},
		{"!= differs", `{"!=": [1, 2]}`, nil, "true"},
		{"!= coerces", `{"!=": [1, "1"]}`, nil, "false"},
		{"!== differs", `{"!==": [1, 2]}`, nil, "true"},
		{"!== strict", `{"!==": [1, "1"]}`, nil, "true"},
		{"0 == empty string", `{"==": [0, ""]}`, nil, "true"},
		{"null == 0", `{"==": [null, 0]}`, nil, "false"},
		{"null == null", `{"==": [null, null]}`, nil, "true"},
		{"null === null", `{"===": [null, null]}`, nil, "true"},
		{"true == 1", `{"==": [true, 1]}`, nil, "true"},
		{"\"1\" == true", `{"==": ["1", true]}`, nil, "true"},
		{"false == \"0\"", `{"==": [false, "0"]}`, nil, "true"},
		{"padded number string", `{"==": [" 1 ", 1]}`, nil, "true"},
		{"hex string", `{"==": ["0x10", 16]}`, nil, "true"},
		{"array == its string", `{"==": [[1, 2], "1,2"]}`, nil, "true"},
		{"array == number", `{"==": [[1], 1]}`, nil, "true"},
		{"arrays never ==", `{"==": [[1], [1]]}`, nil, "false"},
		{"strings", `{"==": ["abc", "abc"]}`, nil, "true"},
		{"var against literal", `{"==": [{"var": "v"}, 5]}`, map[string]any{"v": "5"}, "true"},
		{"missing var strict", `{"===": [{"var": "v"}, null]}`, nil, "true"},
	})
}

func TestComparison(t *testing.T) {
	runCases(t, []opCase{
		// flagd's flag-definitions reference, "Operations".
		{"> true", `{">": [2, 1]}`, nil, "true"},
		{"> false", `{">": [1, 2]}`, nil, "false"},
		{">= greater", `{">=": [2, 1]}`, nil, "true"},
		{">= equal", `{">=": [1, 1]}`, nil, "true"},
		{"< true", `{"<": [1, 2]}`, nil, "true"},
		{"< false", `{"<": [2, 1]}`, nil, "false"},
		{"<= equal", `{"<=": [1, 1]}`, nil, "true"},
		{"<= false", `{"<=": [2, 1]}`, nil, "false"},
		{"between", `{"<": [1, 5, 10]}`, nil, "true"},
		{"between outside", `{"<": [1, 11, 10]}`, nil, "false"},
		{"between is exclusive", `{"<": [1, 1, 10]}`, nil, "false"},
		{"between inclusive", `{"<=": [1, 1, 10]}`, nil, "true"},
		{"between inclusive upper", `{"<=": [1, 10, 10]}`, nil, "true"},
		{"between inclusive outside", `{"<=": [1, 11, 10]}`, nil, "false"},
		{"strings compare as strings", `{"<": ["10", "9"]}`, nil, "true"},
		{"string and number compare as numbers", `{"<": ["10", 9]}`, nil, "false"},
		{"null is 0", `{"<": [null, 1]}`, nil, "true"},
		{"NaN is never less", `{"<": ["abc", 1]}`, nil, "false"},
		{"NaN is never greater or equal", `{">=": ["abc", 1]}`, nil, "false"},
		{"NaN is never <=", `{"<=": [1, "abc"]}`, nil, "false"},
		{"timestamps", `{">": [{"var": "$flagd.timestamp"}, 1600000000]}`, nil, "true"},
	})
}

func TestIn(t *testing.T) {
	big := `["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]`
	runCases(t, []opCase{
		// flagd's flag-definitions reference, "Operations".
		{"contains", `{"in": ["Spring", "Springfield"]}`, nil, "true"},
		{"does not contain", `{"in": ["Illinois", "Springfield"]}`, nil, "false"},
		{"not contains", `{"!": {"in": ["Spring", "Springfield"]}}`, nil, "false"},
		{"in array", `{"in": ["Mike", ["Bob", "Mike"]]}`, nil, "true"},
		{"not in array", `{"in": ["Todd", ["Bob", "Mike"]]}`, nil, "false"},
		{"not in", `{"!": {"in": ["Mike", ["Bob", "Mike"]]}}`, nil, "false"},
		{"domain in email", `{"in": ["@example.com", {"var": "email"}]}`, map[string]any{"email": "me@example.com"}, "true"},
		{"membership is strict", `{"in": [1, ["1"]]}`, nil, "false"},
		{"number in array", `{"in": [1, [1, 2]]}`, nil, "true"},
		{"number in string", `{"in": [1, "a1"]}`, nil, "true"},
		{"in null", `{"in": ["x", null]}`, nil, "false"},
		{"in number", `{"in": ["1", 10]}`, nil, "false"},
		{"large literal set hit", `{"in": ["g", ` + big + `]}`, nil, "true"},
		{"large literal set miss", `{"in": ["z", ` + big + `]}`, nil, "false"},
		{"large literal set non-string", `{"in": [1, ` + big + `]}`, nil, "false"},
		{"context array", `{"in": ["beta", {"var": "groups"}]}`, map[string]any{"groups": []any{"alpha", "beta"}}, "true"},
	})
}

func TestStringAndArithmetic(t *testing.T) {
	runCases(t, []opCase{
		{"cat", `{"cat": ["a", 1, true, null, 1.5]}`, nil, "a1truenull1.5"},
		{"cat nothing", `{"cat": []}`, nil, ""},
		{"cat big number", `{"cat": [1e21, "|", 1e-7, "|", 123456789012]}`, nil, "1e+21|1e-7|123456789012"},
		{"substr start", `{"substr": ["jsonlogic", 4]}`, nil, "logic"},
		{"substr negative start", `{"substr": ["jsonlogic", -5]}`, nil, "logic"},
		{"substr length", `{"substr": ["jsonlogic", 1, 3]}`, nil, "son"},
		{"substr negative length", `{"substr": ["jsonlogic", 4, -2]}`, nil, "log"},
		{"substr past the end", `{"substr": ["abc", 5]}`, nil, ""},
		{"substr non-ASCII", `{"substr": ["héllo", 1, 3]}`, nil, "éll"},
		{"substr counts UTF-16 units", `{"substr": ["a😀b", 1, 2]}`, nil, "😀"},
		{"+", `{"+": [1, "2"]}`, nil, "3"},
		{"+ parseFloat", `{"+": ["3.5abc"]}`, nil, "3.5"},
		{"+ nothing", `{"+": []}`, nil, "0"},
		{"+ float", `{"+": [0.1, 0.2]}`, nil, "0.30000000000000004"},
		{"-", `{"-": [5, 2]}`, nil, "3"},
		{"unary -", `{"-": [2]}`, nil, "-2"},
		{"*", `{"*": [2, "3"]}`, nil, "6"},
		{"/", `{"/": [1, 4]}`, nil, "0.25"},
		{"/ repeating", `{"/": [1, 3]}`, nil, "0.3333333333333333"},
		{"%", `{"%": [7, 3]}`, nil, "1"},
		{"% keeps the dividend's sign", `{"%": [-7, 3]}`, nil, "-1"},
		{"division by zero is not a variant", `{"/": [1, 0]}`, nil, errGeneral},
		{"NaN is not a variant", `{"-": ["a"]}`, nil, errGeneral},
		{"max", `{"max": [1, 3, 2]}`, nil, "3"},
		{"min", `{"min": [1, "-2", 3]}`, nil, "-2"},
		{"max NaN", `{"max": [1, "x"]}`, nil, errGeneral},
		{"merge", `{"cat": {"merge": [[1, 2], 3, [4, [5]]]}}`, nil, "1,2,3,4,5"},
		{"merge length", `{"==": [{"reduce": [{"merge": [[1, 2], 3, [4, [5]]]}, {"+": [1, {"var": "accumulator"}]}, 0]}, 5]}`, nil, "true"},
	})
}

func TestArrayOperators(t *testing.T) {
	ctx := map[string]any{"xs": []any{1.0, 2.0, 3.0, 4.0}}
	runCases(t, []opCase{
		{"map", `{"cat": {"map": [{"var": "xs"}, {"*": [{"var": ""}, 2]}]}}`, ctx, "2,4,6,8"},
		{"map over non-array", `{"cat": {"map": [{"var": "nope"}, {"var": ""}]}}`, ctx, ""},
		{"filter", `{"cat": {"filter": [{"var": "xs"}, {"%": [{"var": ""}, 2]}]}}`, ctx, "1,3"},
		{"reduce", `{"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}`, ctx, "10"},
		{"reduce without initial", `{"reduce": [[], {"var": "current"}]}`, ctx, noMatch},
		{"all", `{"all": [{"var": "xs"}, {">": [{"var": ""}, 0]}]}`, ctx, "true"},
		{"all fails", `{"all": [{"var": "xs"}, {">": [{"var": ""}, 1]}]}`, ctx, "false"},
		{"all of nothing", `{"all": [[], true]}`, ctx, "false"},
		{"none", `{"none": [{"var": "xs"}, {">": [{"var": ""}, 5]}]}`, ctx, "true"},
		{"some", `{"some": [{"var": "xs"}, {">": [{"var": ""}, 3]}]}`, ctx, "true"},
		{"some of nothing", `{"some": [[], true]}`, ctx, "false"},
	})
}
