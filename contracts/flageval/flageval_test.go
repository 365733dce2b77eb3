package flageval_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/flageval"
	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/targeting/testbed"
)

func def(t testing.TB, raw string) flagsv1.Definition {
	t.Helper()
	var d flagsv1.Definition
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatalf("definition %s: %v", raw, err)
	}
	return d
}

func str(s string) *string { return &s }

func TestEvaluate(t *testing.T) {
	shared := map[string]json.RawMessage{"isStaff": json.RawMessage(`{"ends_with":[{"var":"email"},"@acme.com"]}`)}
	staff := map[string]any{"email": "ann@acme.com"}
	tests := []struct {
		name   string
		def    string
		ctx    map[string]any
		want   flageval.Result
		static bool
	}{
		{"static", `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`, nil,
			flageval.Result{Reason: "STATIC", Variant: str("on"), Value: json.RawMessage(`true`)}, true},
		{"values are compacted", `{"state":"ENABLED","variants":{"o":{ "a" : [1, 2] }},"defaultVariant":"o"}`, nil,
			flageval.Result{Reason: "STATIC", Variant: str("o"), Value: json.RawMessage(`{"a":[1,2]}`)}, true},
		{"disabled", `{"state":"DISABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"if":[true,"on"]}}`, staff,
			flageval.Result{Reason: "DISABLED"}, true},
		{"code default", `{"state":"ENABLED","variants":{"on":true},"defaultVariant":null}`, nil,
			flageval.Result{Reason: "DEFAULT"}, true},
		{"unknown state", `{"state":"ARCHIVED","variants":{"on":true},"defaultVariant":"on"}`, nil,
			flageval.Failure("GENERAL", "flag 'f' has an unknown state 'ARCHIVED'"), true},
		{"default variant missing", `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"off"}`, nil,
			flageval.Failure("GENERAL", "flag 'f' has a default variant 'off' that is not one of its variants"), true},
		{"rule that does not compile", `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"nope":[1]}}`, nil,
			flageval.Result{ErrorCode: "PARSE_ERROR"}, true},
		{"rule matches", `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"$ref":"isStaff"},"on",null]}}`, staff,
			flageval.Result{Reason: "TARGETING_MATCH", Variant: str("on"), Value: json.RawMessage(`true`)}, false},
		{"rule chooses none", `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"$ref":"isStaff"},"on",null]}}`,
			map[string]any{"email": "bob@example.com"},
			flageval.Result{Reason: "DEFAULT", Variant: str("off"), Value: json.RawMessage(`false`)}, false},
		{"rule chooses none, code default", `{"state":"ENABLED","variants":{"on":true},"defaultVariant":null,"targeting":{"if":[false,"on"]}}`, nil,
			flageval.Result{Reason: "DEFAULT"}, false},
		{"rule chooses a variant the flag lacks", `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"if":[true,"gone"]}}`, nil,
			flageval.Failure("GENERAL", "flag 'f': targeting chose variant 'gone', which the flag does not have"), false},
		{"nil context is empty", `{"state":"ENABLED","variants":{"a":1,"b":2},"defaultVariant":"a","targeting":{"if":[{"missing":["x"]},"b"]}}`, nil,
			flageval.Result{Reason: "TARGETING_MATCH", Variant: str("b"), Value: json.RawMessage(`2`)}, false},
		{"$flagd properties", `{"state":"ENABLED","variants":{"a":1,"b":2},"defaultVariant":"a","targeting":{"if":[{"and":[{"==":[{"var":"$flagd.flagKey"},"f"]},{">":[{"var":"$flagd.timestamp"},1000]}]},"b"]}}`, nil,
			flageval.Result{Reason: "TARGETING_MATCH", Variant: str("b"), Value: json.RawMessage(`2`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := flageval.Compile("f", def(t, tt.def), shared)
			if _, static := f.Static(); static != tt.static {
				t.Fatalf("Static() reports %v, want %v", static, tt.static)
			}
			got := f.Evaluate(tt.ctx, 2000)
			if tt.want.ErrorCode == "PARSE_ERROR" {
				if got.ErrorCode != "PARSE_ERROR" || got.ErrorDetails == "" {
					t.Fatalf("Evaluate = %+v, want a PARSE_ERROR with details", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Evaluate = %s, want %s", show(got), show(tt.want))
			}
		})
	}
}

func show(r flageval.Result) string {
	v := "<nil>"
	if r.Variant != nil {
		v = *r.Variant
	}
	return fmt.Sprintf("{Reason:%s Variant:%s Value:%s ErrorCode:%s ErrorDetails:%q}", r.Reason, v, r.Value, r.ErrorCode, r.ErrorDetails)
}

// TestFlagdTestbed resolves every case of flagd-testbed (as restated in
// contracts/targeting/testdata) and checks value, reason and error code: the same data
// the evaluation module's OFREP test checks the server against.
func TestFlagdTestbed(t *testing.T) {
	tb := testbed.Load(t)
	flags := map[string]*flageval.Flag{}
	for key, f := range tb.Flags {
		flags[key] = flageval.Compile(key, flagsv1.Definition{State: "ENABLED", Variants: f.Variants, DefaultVariant: f.DefaultVariant, Targeting: f.Targeting}, tb.Evaluators)
	}
	if len(tb.Cases) < 100 {
		t.Fatalf("testbed has %d cases, want at least 100", len(tb.Cases))
	}
	for i, tc := range tb.Cases {
		t.Run(fmt.Sprintf("%03d-%s", i, tc.Flag), func(t *testing.T) {
			got := flags[tc.Flag].Evaluate(tc.Context, 1700000000)
			wantCode := tc.ErrorCode
			if tc.CompileError != "" {
				wantCode = "PARSE_ERROR"
			}
			if got.ErrorCode != wantCode {
				t.Fatalf("errorCode %q (%s), want %q", got.ErrorCode, got.ErrorDetails, wantCode)
			}
			if wantCode != "" {
				return
			}
			if tc.Reason != "" && got.Reason != tc.Reason {
				t.Errorf("reason %q, want %q", got.Reason, tc.Reason)
			}
			if tc.Value != nil && !sameJSON(t, got.Value, tc.Value) {
				t.Errorf("value %s, want %s", got.Value, tc.Value)
			}
		})
	}
}

func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatalf("not JSON: %s, %s", a, b)
	}
	return reflect.DeepEqual(x, y)
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	static := flageval.Compile("s", def(t, `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"}`), nil)
	ruled := flageval.Compile("r", def(t, `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"in":[{"var":"plan"},["pro","team"]]},"on",null]}}`), nil)
	ctx := map[string]any{"plan": "pro", "targetingKey": "u1"}
	for name, f := range map[string]*flageval.Flag{"static": static, "targeted": ruled} {
		if n := testing.AllocsPerRun(100, func() { _ = f.Evaluate(ctx, 1) }); n != 0 {
			t.Errorf("%s flag: %v allocations per evaluation, want 0", name, n)
		}
		answers := flageval.NewAnswers(f, func(r flageval.Result) *flageval.Result { return &r })
		if n := testing.AllocsPerRun(100, func() { _ = answers.Evaluate(ctx, 1) }); n != 0 {
			t.Errorf("%s flag: %v allocations per evaluation of its Answers, want 0", name, n)
		}
	}
}

func BenchmarkEvaluateStatic(b *testing.B) {
	f := flageval.Compile("s", def(b, `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"}`), nil)
	b.ReportAllocs()
	for b.Loop() {
		_ = f.Evaluate(nil, 1)
	}
}

func BenchmarkEvaluateTargeted(b *testing.B) {
	f := flageval.Compile("r", def(b, `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"in":[{"var":"plan"},["pro","team"]]},"on",null]}}`), nil)
	ctx := map[string]any{"plan": "pro"}
	b.ReportAllocs()
	for b.Loop() {
		_ = f.Evaluate(ctx, 1)
	}
}

// TestAnswers checks that Answers gives, for every context, the answer built from what
// Evaluate resolves, and that it builds each answer once: a resolution reached twice is
// the same answer (pointer), and only a failure met while evaluating builds a new one.
func TestAnswers(t *testing.T) {
	shared := map[string]json.RawMessage{"isPro": json.RawMessage(`{"==":[{"var":"plan"},"pro"]}`)}
	defs := map[string]string{
		"static":   `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`,
		"disabled": `{"state":"DISABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"if":[true,"on"]}}`,
		"invalid":  `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"nope":[1]}}`,
		"ruled":    `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"$ref":"isPro"},"on",{"==":[{"var":"plan"},"odd"]},"gone",null]}}`,
		"bad-var":  `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"var":"chosen"}}`,
	}
	contexts := []map[string]any{nil, {"plan": "pro"}, {"plan": "free"}, {"plan": "odd"}, {"chosen": "on"}, {"chosen": 3}}
	for key, raw := range defs {
		t.Run(key, func(t *testing.T) {
			f := flageval.Compile(key, def(t, raw), shared)
			built := 0
			answers := flageval.NewAnswers(f, func(r flageval.Result) *flageval.Result { built++; return &r })
			_, fStatic := f.Static()
			if _, static := answers.Static(); static != fStatic {
				t.Fatalf("Answers.Static() reports %v, the flag %v", static, fStatic)
			}
			wantBuilt := 1
			if !fStatic {
				wantBuilt += 1 + len(f.Matches())
			}
			if built != wantBuilt {
				t.Fatalf("NewAnswers built %d answers, want %d (one per resolution reachable without the rule)", built, wantBuilt)
			}
			for _, evalCtx := range contexts {
				want := f.Evaluate(evalCtx, 2000)
				before := built
				first, second := answers.Evaluate(evalCtx, 2000), answers.Evaluate(evalCtx, 2000)
				if !reflect.DeepEqual(*first, want) {
					t.Errorf("context %v: Answers.Evaluate = %s, Flag.Evaluate = %s", evalCtx, show(*first), show(want))
				}
				failedNow := want.ErrorCode != "" && !fStatic
				if failedNow != (first != second) || failedNow != (built != before) {
					t.Errorf("context %v: a resolution that is not a failure met while evaluating must be built once and reused (built %d more, same answer: %v)",
						evalCtx, built-before, first == second)
				}
			}
		})
	}
}
