package evaluation_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestEveryOperatorThroughOFREP evaluates one rule per operator through the OFREP API:
// the rule serves "yes" when its condition holds and otherwise falls back to the
// default variant "no", so each row checks both the operator and the reasons.
func TestEveryOperatorThroughOFREP(t *testing.T) {
	tests := []struct {
		name      string
		condition string
		context   string
		holds     bool
	}{
		{"== is loose", `{"==":[{"var":"n"},"1"]}`, `{"n":1}`, true},
		{"=== is strict", `{"===":[{"var":"n"},"1"]}`, `{"n":1}`, false},
		{"!=", `{"!=":[{"var":"plan"},"free"]}`, `{"plan":"pro"}`, true},
		{"!==", `{"!==":[{"var":"n"},1]}`, `{"n":1}`, false},
		{"! of empty string", `{"!":[{"var":"name"}]}`, `{"name":""}`, true},
		{"!! of empty array is false", `{"!!":[{"var":"tags"}]}`, `{"tags":[]}`, false},
		{"and", `{"and":[{"var":"a"},{"var":"b"}]}`, `{"a":true,"b":1}`, true},
		{"or", `{"or":[{"var":"a"},{"var":"b"}]}`, `{"a":false,"b":0}`, false},
		{"<", `{"<":[{"var":"age"},18]}`, `{"age":17}`, true},
		{"<= between", `{"<=":[18,{"var":"age"},65]}`, `{"age":65}`, true},
		{"< between excludes the bounds", `{"<":[18,{"var":"age"},65]}`, `{"age":65}`, false},
		{">", `{">":[{"var":"score"},9.5]}`, `{"score":10}`, true},
		{">=", `{">=":[{"var":"score"},10]}`, `{"score":9}`, false},
		{"in a string", `{"in":["@acme.com",{"var":"email"}]}`, `{"email":"jo@acme.com"}`, true},
		{"in an array", `{"in":[{"var":"country"},["de","fr"]]}`, `{"country":"it"}`, false},
		{"var with a dotted path", `{"==":[{"var":"user.address.city"},"Oslo"]}`, `{"user":{"address":{"city":"Oslo"}}}`, true},
		{"var with a default", `{"==":[{"var":["tier","basic"]},"basic"]}`, `{}`, true},
		{"cat", `{"==":[{"cat":[{"var":"a"},"-",{"var":"b"}]},"x-1"]}`, `{"a":"x","b":1}`, true},
		{"substr", `{"==":[{"substr":[{"var":"sku"},-3]},"EU1"]}`, `{"sku":"SHOE-EU1"}`, true},
		{"arithmetic", `{"==":[{"+":[{"*":[{"var":"a"},2]},{"-":[5,3]},{"/":[9,3]},{"%":[7,4]}]},14]}`, `{"a":3}`, true},
		{"missing", `{"!":[{"missing":["email","plan"]}]}`, `{"email":"a@b.c"}`, false},
		{"if with else-if", `{"if":[{"var":"a"},false,{"var":"b"},true,false]}`, `{"b":true}`, true},
		{"starts_with", `{"starts_with":[{"var":"email"},"admin@"]}`, `{"email":"admin@acme.com"}`, true},
		{"ends_with", `{"ends_with":[{"var":"email"},"@acme.com"]}`, `{"email":"jo@other.org"}`, false},
		{"sem_ver >=", `{"sem_ver":[{"var":"version"},">=","1.2.0"]}`, `{"version":"v1.10.0"}`, true},
		{"sem_ver ^", `{"sem_ver":[{"var":"version"},"^","1.2.0"]}`, `{"version":"2.0.0"}`, false},
		{"sem_ver ~", `{"sem_ver":[{"var":"version"},"~","1.2.0"]}`, `{"version":"1.2.9"}`, true},
		{"targetingKey", `{"==":[{"var":"targetingKey"},"user-7"]}`, `{"targetingKey":"user-7"}`, true},
		{"$flagd.flagKey", `{"starts_with":[{"var":"$flagd.flagKey"},"op-"]}`, `{}`, true},
		{"$flagd.timestamp", `{"<":[{"var":"$flagd.timestamp"},1000000000]}`, `{}`, false},
		{"$ref to a shared evaluator", `{"$ref":"isStaff"}`, `{"email":"jo@acme.com"}`, true},
	}
	h := newHarness(t)
	h.start()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("op-%02d", i)
			def := `{"state":"ENABLED","variants":{"yes":"yes","no":"no"},"defaultVariant":"no","targeting":{"if":[` + tc.condition + `,"yes",null]}}`
			ev := created(t, "op-"+key, key, 1, def)
			ev.Evaluators = map[string]json.RawMessage{"isStaff": json.RawMessage(`{"ends_with":[{"var":"email"},"@acme.com"]}`)}
			h.mustDeliver(ev)
			rec := h.evaluate(key, `{"context":`+tc.context+`}`)
			want := `{"key":"` + key + `","reason":"DEFAULT","variant":"no","value":"no","metadata":{}}`
			if tc.holds {
				want = `{"key":"` + key + `","reason":"TARGETING_MATCH","variant":"yes","value":"yes","metadata":{}}`
			}
			assertResponse(t, rec, http.StatusOK, want)
		})
	}
}

// TestTargetingReasonsAndErrorsThroughOFREP covers what a rule's outcome becomes for a
// client: fractional splits, a rule returning a boolean, a variant the flag lacks, and
// a rule stored before it was validated.
func TestTargetingReasonsAndErrorsThroughOFREP(t *testing.T) {
	tests := []struct {
		name    string
		def     string
		context string
		status  int
		body    string
	}{
		{"fractional picks a bucket by flag key and targeting key",
			`{"state":"ENABLED","variants":{"a":"a","b":"b"},"defaultVariant":"a","targeting":{"fractional":[["a",0],["b",100]]}}`,
			`{"targetingKey":"user-1"}`, 200, `{"key":"K","reason":"TARGETING_MATCH","variant":"b","value":"b","metadata":{}}`},
		{"fractional without a targeting key falls back to the default",
			`{"state":"ENABLED","variants":{"a":"a","b":"b"},"defaultVariant":"a","targeting":{"fractional":[["a",50],["b",50]]}}`,
			`{}`, 200, `{"key":"K","reason":"DEFAULT","variant":"a","value":"a","metadata":{}}`},
		{"a boolean result names the variant true or false",
			`{"state":"ENABLED","variants":{"true":1,"false":0},"defaultVariant":"false","targeting":{"==":[{"var":"beta"},true]}}`,
			`{"beta":true}`, 200, `{"key":"K","reason":"TARGETING_MATCH","variant":"true","value":1,"metadata":{}}`},
		{"a variant the flag lacks is a GENERAL error",
			`{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"if":[true,"gone",null]}}`,
			`{}`, 400, `{"key":"K","errorCode":"GENERAL","errorDetails":"flag 'K': targeting chose variant 'gone', which the flag does not have"}`},
		{"a stored rule that does not compile is a PARSE_ERROR",
			`{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"no_such_op":[1]}}`,
			`{}`, 400, ``},
		{"a disabled flag is not targeted",
			`{"state":"DISABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"if":[true,"on",null]}}`,
			`{}`, 200, `{"key":"K","reason":"DISABLED","metadata":{}}`},
	}
	h := newHarness(t)
	h.start()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("K%d", i)
			h.mustDeliver(created(t, "r-"+key, key, 1, tc.def))
			rec := h.evaluate(key, `{"context":`+tc.context+`}`)
			if tc.body == "" {
				var got map[string]any
				_ = json.Unmarshal(rec.Body.Bytes(), &got)
				if rec.Code != tc.status || got["errorCode"] != "PARSE_ERROR" {
					t.Fatalf("%d %s, want %d PARSE_ERROR", rec.Code, rec.Body, tc.status)
				}
				return
			}
			want := replaceKey(tc.body, key)
			assertResponse(t, rec, tc.status, want)
		})
	}
}

func replaceKey(body, key string) string {
	return strings.NewReplacer(`"K"`, `"`+key+`"`, `'K'`, `'`+key+`'`).Replace(body)
}
