package main

import (
	"encoding/json"
	"fmt"
)

// defaultTargeted is how many seeded flags carry targeting rules by default: the hook
// for the targeting engine (contracts/targeting). With it, the bulk scenario evaluates
// rules as well as static flags, and a scenario evaluating one targeted flag is added.
// Against a build without the engine, such a flag answers DEFAULT without reading the
// context, and the report says so. -targeted 0 measures static flags only.
const defaultTargeted = 20

// evalContext is the context every evaluation request sends (and the bare handler
// receives): the attributes the seeded rules read.
const evalContext = `{"context":{"targetingKey":"user-123","email":"someone@example.com","plan":"pro","appVersion":"2.3.1"}}`

// rules are the targeting rules of targeted flags, in turn: one per kind of operator
// flagd's JsonLogic adds, plus a plain one. ruleNames names them in the same order.
var (
	rules = []string{
		`{"if":[{"ends_with":[{"var":"email"},"@example.com"]},"on","off"]}`,
		`{"if":[{"in":[{"var":"plan"},["pro","enterprise"]]},"on","off"]}`,
		`{"if":[{"sem_ver":[{"var":"appVersion"},">=","2.0.0"]},"on","off"]}`,
		`{"fractional":[["on",50],["off",50]]}`,
	}
	ruleNames = []string{"ends_with", "in", "sem_ver", "fractional"}
)

// seedRuleName names the rule of the i-th of n seeded flags, the last `targeted` of
// which have rules; "" for a static flag or an index outside the seed.
func seedRuleName(i, n, targeted int) string {
	r := i - (n - targeted)
	if i < 0 || i >= n || r < 0 {
		return ""
	}
	return ruleNames[r%len(ruleNames)]
}

// seedKey names the i-th seeded flag; keys sort in seeding order.
func seedKey(i int) string { return fmt.Sprintf("bench-%03d", i) }

// staticKey is a flag without targeting: the single-evaluation scenario's flag.
func staticKey() string { return seedKey(0) }

// targetedKey is the first flag with targeting rules (valid when targeted > 0).
func targetedKey(flags, targeted int) string { return seedKey(flags - targeted) }

// seedDocument is a flagd flag file of n flags: static booleans and strings, the last
// `targeted` of them with a targeting rule.
func seedDocument(n, targeted int) ([]byte, error) {
	if n < 1 || targeted < 0 || targeted > n {
		return nil, fmt.Errorf("seed of %d flags with %d targeted: want n >= 1 and 0 <= targeted <= n", n, targeted)
	}
	type definition struct {
		State          string            `json:"state"`
		Variants       map[string]any    `json:"variants"`
		DefaultVariant string            `json:"defaultVariant"`
		Targeting      json.RawMessage   `json:"targeting,omitempty"`
		Metadata       map[string]string `json:"metadata,omitempty"`
	}
	flags := make(map[string]definition, n)
	for i := range n {
		d := definition{State: "ENABLED", Variants: map[string]any{"on": true, "off": false}, DefaultVariant: "on"}
		if i%2 == 1 {
			d.Variants = map[string]any{"control": "control", "treatment": "treatment-b"}
			d.DefaultVariant = "control"
			d.Metadata = map[string]string{"owner": "bench-team"}
		}
		if r := i - (n - targeted); r >= 0 { // seedRuleName's rule
			d.Variants = map[string]any{"on": true, "off": false}
			d.DefaultVariant = "off"
			d.Targeting = json.RawMessage(rules[r%len(rules)])
		}
		flags[seedKey(i)] = d
	}
	return json.Marshal(map[string]any{"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": flags})
}
