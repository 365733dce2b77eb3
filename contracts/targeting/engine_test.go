package targeting_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/targeting"
)

func TestStartsEndsWith(t *testing.T) {
	runCases(t, []opCase{
		// flagd's flag-definitions reference, "Custom Operations".
		{"starts_with", `{"starts_with": ["192.168.0.1", "192.168"]}`, nil, "true"},
		{"starts_with false", `{"starts_with": ["10.0.0.1", "192.168"]}`, nil, "false"},
		{"ends_with", `{"ends_with": ["noreply@example.com", "@example.com"]}`, nil, "true"},
		{"ends_with false", `{"ends_with": ["noreply@example.com", "@test.com"]}`, nil, "false"},
		{"empty prefix", `{"starts_with": ["abc", ""]}`, nil, "true"},
		{"non-string makes the whole rule null", `{"!": {"starts_with": [1, "a"]}}`, nil, noMatch},
		{"missing attribute makes the whole rule null", `{"if": [{"ends_with": [{"var": "email"}, "@x.com"]}, "a", "b"]}`, nil, noMatch},
	})
}

func TestSemVer(t *testing.T) {
	rule := `{"if": [{"sem_ver": [{"var": "version"}, ">=", "1.0.0"]}, "red", "green"]}`
	runCases(t, []opCase{
		// flagd's sem_ver reference: headerColor.
		{"docs example newer", rule, map[string]any{"version": "1.0.1"}, "red"},
		{"docs example older", rule, map[string]any{"version": "0.1.0"}, "green"},
		{"literal", `{"sem_ver": ["1.1.2", ">=", "1.0.0"]}`, nil, "true"},
		{"=", `{"sem_ver": ["1.2.3", "=", "v1.2.3"]}`, nil, "true"},
		{"!=", `{"sem_ver": ["1.2.3", "!=", "1.2.4"]}`, nil, "true"},
		{"<", `{"sem_ver": ["1.2.3", "<", "1.10.0"]}`, nil, "true"},
		{"<=", `{"sem_ver": ["1.2.3", "<=", "1.2.3"]}`, nil, "true"},
		{">", `{"sem_ver": ["2.0.0", ">", "2.0.0-rc.1"]}`, nil, "true"},
		{"~ same minor", `{"sem_ver": ["1.2.9", "~", "1.2.0"]}`, nil, "true"},
		{"~ other minor", `{"sem_ver": ["1.3.0", "~", "1.2.0"]}`, nil, "false"},
		{"^ same major", `{"sem_ver": ["1.9.0", "^", "1.2.0"]}`, nil, "true"},
		{"^ other major", `{"sem_ver": ["2.0.0", "^", "1.2.0"]}`, nil, "false"},
		{"prerelease ordering", `{"sem_ver": ["1.0.0-alpha.1", "<", "1.0.0-alpha.beta"]}`, nil, "true"},
		{"numeric prerelease ordering", `{"sem_ver": ["1.0.0-2", "<", "1.0.0-10"]}`, nil, "true"},
		{"computed operator", `{"sem_ver": ["1.0.0", {"var": "op"}, "2.0.0"]}`, map[string]any{"op": "<"}, "true"},
		{"computed bad operator", `{"sem_ver": ["1.0.0", {"var": "op"}, "2.0.0"]}`, map[string]any{"op": "=="}, noMatch},
		{"shorthand version", `{"!": {"sem_ver": [{"var": "version"}, "=", "1.0.0"]}}`, map[string]any{"version": "1.0"}, "false"},
		{"invalid version makes the rule null", `{"!": {"sem_ver": [{"var": "version"}, "=", "1.0.0"]}}`, map[string]any{"version": "01.0.0"}, noMatch},
		{"missing version makes the rule null", `{"!": {"sem_ver": [{"var": "version"}, "=", "1.0.0"]}}`, nil, noMatch},
	})
}

func TestResults(t *testing.T) {
	runCases(t, []opCase{
		{"string", `"on"`, nil, "on"},
		{"true", `{"==": [1, 1]}`, nil, "true"},
		{"false", `{"==": [1, 2]}`, nil, "false"},
		{"number", `{"+": [1, 1]}`, nil, "2"},
		{"null", `{"if": [false, "x", null]}`, nil, noMatch},
		{"array", `{"merge": [1]}`, nil, errGeneral},
		{"object", `{"var": "o"}`, map[string]any{"o": map[string]any{}}, errGeneral},
	})
}

func TestRef(t *testing.T) {
	evaluators := map[string]json.RawMessage{
		"emailWithFaas": json.RawMessage(`{"in": ["@faas.com", {"var": ["email"]}]}`),
		"isBeta":        json.RawMessage(`{"and": [{"$ref": "emailWithFaas"}, {"==": [{"var": "tier"}, "beta"]}]}`),
	}
	// flagd's flag-definitions reference, "Shared evaluators": fibAlgo.
	fib := `{"if": [{"$ref": "emailWithFaas"}, "binet", null]}`
	nested := `{"if": [{"$ref": "isBeta"}, "beta", "stable"]}`
	for _, tc := range []struct {
		name, rule string
		ctx        map[string]any
		want       string
	}{
		{"ref matches", fib, map[string]any{"email": "me@faas.com"}, "binet"},
		{"ref does not match", fib, map[string]any{"email": "me@example.com"}, noMatch},
		{"nested ref", nested, map[string]any{"email": "me@faas.com", "tier": "beta"}, "beta"},
		{"nested ref false", nested, map[string]any{"email": "me@faas.com", "tier": "ga"}, "stable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := evaluate(t, tc.rule, evaluators, tc.ctx); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStaticRules(t *testing.T) {
	for _, raw := range []string{"", "  ", "null", "{}", " { } "} {
		r, err := targeting.Compile(json.RawMessage(raw), nil)
		if err != nil {
			t.Fatalf("Compile(%q): %v", raw, err)
		}
		if !r.Static() {
			t.Errorf("Compile(%q).Static() = false", raw)
		}
		res, err := r.Evaluate(targeting.Input{FlagKey: "f"})
		if err != nil || res.Outcome != targeting.NoMatch {
			t.Errorf("Compile(%q).Evaluate = %+v, %v; want NoMatch", raw, res, err)
		}
	}
	r, err := targeting.Compile(nil, nil)
	if err != nil || !r.Static() {
		t.Fatalf("Compile(nil) = %v, %v", r, err)
	}
	r, err = targeting.Compile(json.RawMessage(`{"if": [true, "a"]}`), nil)
	if err != nil || r.Static() {
		t.Fatalf("a real rule must not be static: %v", err)
	}
}

func TestCyclicContextDoesNotHang(t *testing.T) {
	cyclic := []any{"x", nil}
	cyclic[1] = cyclic
	if got := evaluate(t, `{"cat": [{"var": "c"}]}`, nil, map[string]any{"c": cyclic}); got == "" {
		t.Errorf("cat of a cyclic array = %q", got)
	}
}

func TestConcurrentEvaluation(t *testing.T) {
	r, err := targeting.Compile(json.RawMessage(`{"if": [{"in": ["@faas.com", {"var": "email"}]}, {"fractional": [["a", 1], ["b", 1]]}, "c"]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]targeting.Result{}
	input := func(i int) targeting.Input {
		email := "u@example.com"
		if i%3 == 0 {
			email = "u@faas.com"
		}
		return targeting.Input{FlagKey: "f", Context: map[string]any{"email": email, "targetingKey": fmt.Sprint(i)}}
	}
	for i := 0; i < 200; i++ {
		res, err := r.Evaluate(input(i))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if res, err := r.Evaluate(input(i)); err != nil || res != want[i] {
					errs <- fmt.Sprintf("key %d: %+v, %v; want %+v", i, res, err, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestStepBudget(t *testing.T) {
	xs := make([]any, 2000)
	for i := range xs {
		xs[i] = float64(i)
	}
	rows := make([]any, 2000)
	for i := range rows {
		rows[i] = xs
	}
	ctx := map[string]any{"xs": xs, "rows": rows}
	if got := evaluate(t, `{"some": [{"var": "xs"}, {">": [{"var": ""}, 1998]}]}`, nil, ctx); got != "true" {
		t.Fatalf("a single pass over 2000 elements = %q, want true", got)
	}
	// 2000 x 2000 visits exceed the budget: the evaluation stops with an error.
	if got := evaluate(t, `{"some": [{"var": "rows"}, {"some": [{"var": ""}, false]}]}`, nil, ctx); got != errGeneral {
		t.Fatalf("a quadratic pass = %q, want %q", got, errGeneral)
	}
}
