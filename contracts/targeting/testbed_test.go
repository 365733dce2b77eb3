package targeting_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/targeting"
	"github.com/switchyardhq/switchyard/contracts/targeting/testbed"
)

// resolution is what a flagd-like caller makes of the engine's answer.
type resolution struct {
	value     any
	reason    string
	errorCode string
}

func TestFlagdTestbed(t *testing.T) {
	tb := testbed.Load(t)
	for _, tc := range tb.Cases {
		t.Run(tc.Flag, func(t *testing.T) {
			flag, ok := tb.Flags[tc.Flag]
			if !ok {
				t.Fatalf("no flag %q in testdata", tc.Flag)
			}
			rule, err := targeting.Compile(flag.Targeting, tb.Evaluators)
			if tc.CompileError != "" {
				var ce *targeting.CompileError
				if !errors.As(err, &ce) || !strings.Contains(ce.Msg, tc.CompileError) {
					t.Fatalf("Compile error = %v, want one containing %q", err, tc.CompileError)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			res, err := rule.Evaluate(targeting.Input{FlagKey: tc.Flag, Context: tc.Context, Timestamp: 1_700_000_000})
			got := resolve(rule, res, err, flag.Variants, flag.DefaultVariant)
			if got.errorCode != tc.ErrorCode {
				t.Fatalf("error code = %q, want %q (result %+v, err %v)", got.errorCode, tc.ErrorCode, res, err)
			}
			if tc.Reason != "" && got.reason != tc.Reason {
				t.Errorf("reason = %q, want %q", got.reason, tc.Reason)
			}
			if tc.Value != nil {
				var want any
				if err := json.Unmarshal(tc.Value, &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.value, want) {
					t.Errorf("value = %#v, want %#v (variant %q)", got.value, want, res.Variant)
				}
			}
		})
	}
}

func resolve(rule *targeting.Rule, res targeting.Result, err error, raw map[string]json.RawMessage, def *string) resolution {
	variants := make(map[string]any, len(raw))
	for name, v := range raw {
		var value any
		_ = json.Unmarshal(v, &value)
		variants[name] = value
	}
	if err != nil {
		var ee *targeting.EvalError
		if errors.As(err, &ee) {
			return resolution{reason: "ERROR", errorCode: ee.Code}
		}
		return resolution{reason: "ERROR", errorCode: "GENERAL"}
	}
	if res.Outcome == targeting.NoMatch {
		reason := "DEFAULT"
		if rule.Static() {
			reason = "STATIC"
		}
		if def == nil {
			return resolution{reason: reason}
		}
		return resolution{value: variants[*def], reason: reason}
	}
	v, ok := variants[res.Variant]
	if !ok {
		return resolution{reason: "ERROR", errorCode: "GENERAL"}
	}
	return resolution{value: v, reason: "TARGETING_MATCH"}
}
