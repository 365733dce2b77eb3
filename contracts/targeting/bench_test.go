package targeting_test

import (
	"encoding/json"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/targeting"
)

var benchContext = map[string]any{
	"targetingKey": "user-12345",
	"email":        "jane@faas.com",
	"version":      "2.3.1",
	"user":         map[string]any{"name": "jane", "tier": "beta"},
}

func benchmarkRule(b *testing.B, rule string, evaluators map[string]json.RawMessage, want targeting.Outcome) {
	b.Helper()
	r, err := targeting.Compile(json.RawMessage(rule), evaluators)
	if err != nil {
		b.Fatal(err)
	}
	in := targeting.Input{FlagKey: "bench-flag", Context: benchContext, Timestamp: 1_700_000_000}
	if res, err := r.Evaluate(in); err != nil || res.Outcome != want {
		b.Fatalf("Evaluate = %+v, %v; want outcome %v", res, err, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Evaluate(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluateStatic(b *testing.B) {
	benchmarkRule(b, `{}`, nil, targeting.NoMatch)
}

// The three-clause rule of the brief: in, ends_with, sem_ver; the last clause matches.
const threeClauses = `{"if": [
	{"in": [{"var": "email"}, ["a@x.com", "b@x.com"]]}, "listed",
	{"ends_with": [{"var": "email"}, "@example.com"]}, "example",
	{"sem_ver": [{"var": "version"}, ">=", "2.0.0"]}, "new",
	"old"]}`

func BenchmarkEvaluateThreeClauses(b *testing.B) {
	benchmarkRule(b, threeClauses, nil, targeting.Match)
}

func BenchmarkEvaluateFractional(b *testing.B) {
	benchmarkRule(b, `{"fractional": [["red", 25], ["blue", 25], ["green", 50]]}`, nil, targeting.Match)
}

func BenchmarkEvaluateFractionalCat(b *testing.B) {
	benchmarkRule(b, `{"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]}, ["red", 50], ["blue", 50]]}`, nil, targeting.Match)
}

func BenchmarkEvaluateRef(b *testing.B) {
	evaluators := map[string]json.RawMessage{
		"faasBeta": json.RawMessage(`{"and": [{"in": ["@faas.com", {"var": "email"}]}, {"==": [{"var": "user.tier"}, "beta"]}]}`),
	}
	benchmarkRule(b, `{"if": [{"$ref": "faasBeta"}, {"fractional": [["on", 10], ["off", 90]]}, null]}`, evaluators, targeting.Match)
}

func BenchmarkCompileThreeClauses(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := targeting.Compile(json.RawMessage(threeClauses), nil); err != nil {
			b.Fatal(err)
		}
	}
}
