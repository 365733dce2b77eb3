package domain

import (
	"encoding/json"
	"testing"

	"github.com/switchyardhq/switchyard/platform/httpx"
)

// FuzzFlagFile feeds arbitrary bytes through what an import does to a request body before
// it touches storage: strict decoding, validation, targeting checks. It must never panic,
// and what it accepts must be canonical: validating its own output again changes nothing
// and finds nothing wrong.
func FuzzFlagFile(f *testing.F) {
	seeds := []string{
		`{"flags":{"a":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}}}`,
		`{"flags":{"b":{"state":"DISABLED","variants":{"x":"1","y":"2"},"defaultVariant":null,"metadata":{"k":1}}},"metadata":{"team":"web"}}`,
		`{"flags":{"c":{"state":"ENABLED","variants":{"n":1.5,"m":2},"targeting":{"if":[{"$ref":"e"},"n",null]}}},"$evaluators":{"e":{"in":["@x",{"var":"email"}]}}}`,
		`{"flags":{"d":{"state":"ENABLED","variants":{"a":{"o":[1]},"b":{}},"targeting":{"fractional":[["a",1],["b"]]}}}}`,
		`{"flags":{"e":{"state":"ENABLED","variants":{"a":true,"b":"x"}}}}`,
		`{"flags":{"":{"state":"ON","variants":{}}}}`,
		`{"$schema":"https://flagd.dev/schema/v0/flags.json","flags":{}}`,
		`[1,2,3]`, `{"flags":null}`, `{"flags":{"f":{"state":"ENABLED","variants":{"a":null}}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var file FlagFile
		if err := httpx.DecodeStrict(body, &file); err != nil {
			return
		}
		valid, errs := ValidateFlagFile(file)
		for key, def := range valid.Flags {
			_ = CheckTargeting(def, valid.Evaluators)
			if len(errs) == 0 {
				again, err := ValidateDefinition(def)
				if err != nil {
					t.Fatalf("a validated definition of %q fails validation again: %v", key, err)
				}
				a, _ := json.Marshal(def)
				b, _ := json.Marshal(again)
				if string(a) != string(b) {
					t.Fatalf("validation is not idempotent for %q:\n%s\n%s", key, a, b)
				}
			}
		}
	})
}
