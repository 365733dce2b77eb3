package flageval

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

func def(t *testing.T, js string) flagsv1.Definition {
	t.Helper()
	var d flagsv1.Definition
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		t.Fatalf("definition %s: %v", js, err)
	}
	return d
}

func TestEvaluate(t *testing.T) {
	const boolVariants = `"variants":{"on":true,"off":false}`
	tests := []struct {
		name        string
		definition  string
		evaluators  map[string]json.RawMessage
		ctx         map[string]any
		wantReason  string
		wantVariant string // "" = no variant (code default or failure)
		wantCode    string
		wantDetail  string
	}{
		{"static", `{"state":"ENABLED",` + boolVariants + `,"defaultVariant":"on"}`, nil, nil, ofrepv1.ReasonStatic, "on", "", ""},
		{"empty targeting is static", `{"state":"ENABLED",` + boolVariants + `,"defaultVariant":"on","targeting":{}}`, nil, nil, ofrepv1.ReasonStatic, "on", "", ""},
		{"disabled", `{"state":"DISABLED",` + boolVariants + `,"defaultVariant":"on"}`, nil, nil, ofrepv1.ReasonDisabled, "", "", ""},
		{"null default variant", `{"state":"ENABLED",` + boolVariants + `,"defaultVariant":null}`, nil, nil, ofrepv1.ReasonDefault, "", "", ""},
		{"unknown state", `{"state":"PAUSED",` + boolVariants + `,"defaultVariant":"on"}`, nil, nil, ofrepv1.ReasonError, "", ofrepv1.ErrorGeneral, "unknown state 'PAUSED'"},
		{"missing default variant", `{"state":"ENABLED",` + boolVariants + `,"defaultVariant":"gone"}`, nil, nil, ofrepv1.ReasonError, "", ofrepv1.ErrorGeneral, "not one of its variants"},
		{"targeting match", `{"state":"ENABLED",` + boolVariants + `,"defaultVariant":"off","targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"on"]}}`,
			nil, map[string]any{"plan": "pro"}, ofrepv1.ReasonTargetingMatch, "on", "", ""},
		{"targeting no match", `{"state":"ENABLED",` + boolVariants + `,"defaultVariant":"off","targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"on"]}}`,
			nil, map[string]any{"plan": "free"}, ofrepv1.ReasonDefault, "off", "", ""},
		{"targeting chooses a missing variant", `{"state":"ENABLED",` + boolVariants + `,"defaultVariant":"off","targeting":{"if":[true,"blue"]}}`,
			nil, nil, ofrepv1.ReasonError, "", ofrepv1.ErrorGeneral, "targeting chose variant 'blue'"},
		{"disabled flag ignores targeting", `{"state":"DISABLED",` + boolVariants + `,"defaultVariant":"off","targeting":{"if":[true,"on"]}}`,
			nil, nil, ofrepv1.ReasonDisabled, "", "", ""},
		{"rule that does not compile", `{"state":"ENABLED",` + boolVariants + `,"defaultVariant":"off","targeting":{"nope":[1]}}`,
			nil, nil, ofrepv1.ReasonError, "", ofrepv1.ErrorParse, "invalid targeting rule"},
		{"$ref to an evaluator", `{"state":"ENABLED",` + boolVariants + `,"defaultVariant":"off","targeting":{"if":[{"$ref":"isPro"},"on"]}}`,
			map[string]json.RawMessage{"isPro": json.RawMessage(`{"==":[{"var":"plan"},"pro"]}`)}, map[string]any{"plan": "pro"},
			ofrepv1.ReasonTargetingMatch, "on", "", ""},
		{"boolean result names a variant", `{"state":"ENABLED","variants":{"true":1,"false":0},"defaultVariant":"false","targeting":{"==":[{"var":"n"},3]}}`,
			nil, map[string]any{"n": 3.0}, ofrepv1.ReasonTargetingMatch, "true", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Compile("f", Source{Definition: def(t, tt.definition), Evaluators: tt.evaluators})
			d := f.Evaluate(tt.ctx, 1_700_000_000)
			gotVariant := ""
			if d.Variant != nil {
				gotVariant = d.Variant.Name
			}
			if d.Reason != tt.wantReason || gotVariant != tt.wantVariant || d.ErrorCode != tt.wantCode || !strings.Contains(d.ErrorDetails, tt.wantDetail) {
				t.Errorf("Evaluate = %+v (variant %q), want reason %s, variant %q, code %q, details containing %q",
					d, gotVariant, tt.wantReason, tt.wantVariant, tt.wantCode, tt.wantDetail)
			}
		})
	}
}

func TestVariantValuesAndMetadata(t *testing.T) {
	f := Compile("f", Source{
		Definition:      def(t, `{"state":"ENABLED","variants":{"a":{ "x" : [1, 2] },"n":42.5,"s":"hi"},"defaultVariant":"a","metadata":{"team":"web","tier":1}}`),
		FlagSetMetadata: map[string]any{"team": "core", "set": "s1"},
	})
	d := f.Evaluate(nil, 0)
	if string(d.Variant.Raw) != `{"x":[1,2]}` {
		t.Errorf("Raw = %s, want compact JSON", d.Variant.Raw)
	}
	if m, ok := d.Variant.Value.(map[string]any); !ok || len(m["x"].([]any)) != 2 {
		t.Errorf("Value = %#v, want the decoded object", d.Variant.Value)
	}
	if f.Metadata["team"] != "web" || f.Metadata["set"] != "s1" || f.Metadata["tier"] != 1.0 {
		t.Errorf("Metadata = %v, want the flag's over the flag set's", f.Metadata)
	}
}

func TestStaticEvaluationDoesNotAllocate(t *testing.T) {
	f := Compile("f", Source{Definition: def(t, `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`)})
	ctx := map[string]any{"targetingKey": "u1"}
	if n := testing.AllocsPerRun(100, func() { f.Evaluate(ctx, 1) }); n != 0 {
		t.Fatalf("Evaluate of a static flag allocates %.0f times, want 0", n)
	}
}
