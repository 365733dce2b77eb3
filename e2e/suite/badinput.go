package suite

import (
	"net/http"
	"strings"
	"testing"
)

// BadInput sends bad input to every endpoint and checks the status, the media type and
// what the error names. Admin and health endpoints answer with application/problem+json;
// OFREP endpoints with OFREP's own error shapes. Nothing it sends changes a flag.
func BadInput(t *testing.T, d Deployment) {
	t.Helper()
	const flagPath = "/api/v1/environments/development/flags/"
	if resp := d.Do(t, d.Command, http.MethodPut, flagPath+"existing", NewBanner, nil); resp.Status != http.StatusCreated {
		t.Fatalf("setup: %d %s", resp.Status, resp.Body)
	}
	Eventually(t, "the flag to be served", func() bool { return d.Evaluate(t, "existing").Status == http.StatusOK })
	noAuth := map[string]string{"Authorization": ""}
	wrongAuth := map[string]string{"Authorization": "Bearer not-a-token-anyone-has"}
	huge := `{"state":"ENABLED","variants":{"on":"` + strings.Repeat("x", 1<<20) + `"},"defaultVariant":"on"}`

	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers map[string]string
		status  int
		field   string // problem "field", when the error is about one
		detail  string // substring of the problem detail (or OFREP errorDetails)
		ofrep   string // OFREP errorCode, for OFREP endpoints
	}{
		{"put without token", http.MethodPut, flagPath + "f", NewBanner, noAuth, 401, "", "missing bearer token", ""},
		{"put with wrong token", http.MethodPut, flagPath + "f", NewBanner, wrongAuth, 401, "", "invalid bearer token", ""},
		{"put malformed json", http.MethodPut, flagPath + "f", `{"state":`, nil, 400, "", "malformed JSON", ""},
		{"put empty body", http.MethodPut, flagPath + "f", " ", nil, 400, "", "request body is empty", ""},
		{"put unknown field", http.MethodPut, flagPath + "f", `{"state":"ENABLED","variants":{"a":1},"colour":"red"}`, nil, 400, "colour", `unknown field "colour"`, ""},
		{"put wrong field type", http.MethodPut, flagPath + "f", `{"state":true,"variants":{"a":1}}`, nil, 400, "state", "must be a string", ""},
		{"put missing state", http.MethodPut, flagPath + "f", `{"variants":{"a":1}}`, nil, 400, "state", "state is required", ""},
		{"put bad state", http.MethodPut, flagPath + "f", `{"state":"ON","variants":{"a":1}}`, nil, 400, "state", `state "ON" is invalid`, ""},
		{"put no variants", http.MethodPut, flagPath + "f", `{"state":"ENABLED","variants":{}}`, nil, 400, "variants", "variants is required", ""},
		{"put mixed variant types", http.MethodPut, flagPath + "f", `{"state":"ENABLED","variants":{"a":true,"b":"x"}}`, nil, 400, "variants.b", "mixed types", ""},
		{"put null variant", http.MethodPut, flagPath + "f", `{"state":"ENABLED","variants":{"a":null}}`, nil, 400, "variants.a", "must not be null", ""},
		{"put array variant", http.MethodPut, flagPath + "f", `{"state":"ENABLED","variants":{"a":[1]}}`, nil, 400, "variants.a", "not an array", ""},
		{"put unknown default variant", http.MethodPut, flagPath + "f", `{"state":"ENABLED","variants":{"a":1},"defaultVariant":"z"}`, nil, 400, "defaultVariant", `defaultVariant "z" is not among the variants (a)`, ""},
		{"put targeting not an object", http.MethodPut, flagPath + "f", `{"state":"ENABLED","variants":{"a":1},"targeting":[1]}`, nil, 400, "targeting", "must be a JSON object", ""},
		{"put metadata not primitive", http.MethodPut, flagPath + "f", `{"state":"ENABLED","variants":{"a":1},"metadata":{"o":{"x":1}}}`, nil, 400, "metadata.o", "string, number or boolean", ""},
		{"put bad key", http.MethodPut, flagPath + "bad%20key!", NewBanner, nil, 400, "key", "flag key", ""},
		{"put bad environment", http.MethodPut, "/api/v1/environments/Prod_1/flags/f", NewBanner, nil, 400, "environment", "environment name", ""},
		{"put body over 1 MiB", http.MethodPut, flagPath + "f", huge, nil, 413, "", "1 MiB", ""},
		{"put stale If-Match", http.MethodPut, flagPath + "existing", `{"state":"DISABLED","variants":{"on":true}}`, map[string]string{"If-Match": `"7"`}, 412, "", "expects version 7 but the flag is at version 1", ""},
		{"put garbage If-Match", http.MethodPut, flagPath + "existing", NewBanner, map[string]string{"If-Match": "yesterday"}, 400, "If-Match", "If-Match must be", ""},
		{"put If-Match * on a missing flag", http.MethodPut, flagPath + "missing", NewBanner, map[string]string{"If-Match": "*"}, 412, "", "expects the flag to exist", ""},
		{"put over-long reason", http.MethodPut, flagPath + "f", NewBanner, map[string]string{"X-Change-Reason": strings.Repeat("r", 1001)}, 400, "X-Change-Reason", "at most 1000", ""},
		{"state bad value", http.MethodPut, flagPath + "existing/state", `{"state":"off"}`, nil, 400, "state", `state "off" is invalid`, ""},
		{"state unknown field", http.MethodPut, flagPath + "existing/state", `{"state":"DISABLED","why":"x"}`, nil, 400, "why", "unknown field", ""},
		{"state missing flag", http.MethodPut, flagPath + "missing/state", `{"state":"DISABLED"}`, nil, 404, "", `flag "missing" not found`, ""},
		{"state without token", http.MethodPut, flagPath + "existing/state", `{"state":"DISABLED"}`, noAuth, 401, "", "missing bearer token", ""},
		{"delete missing flag", http.MethodDelete, flagPath + "missing", "", nil, 404, "", `flag "missing" not found`, ""},
		{"delete without token", http.MethodDelete, flagPath + "existing", "", noAuth, 401, "", "missing bearer token", ""},
		{"get missing flag", http.MethodGet, flagPath + "missing", "", nil, 404, "", `flag "missing" not found`, ""},
		{"get without token", http.MethodGet, flagPath + "existing", "", noAuth, 401, "", "missing bearer token", ""},
		{"list bad limit", http.MethodGet, flagPath + "?limit=0", "", nil, 400, "limit", "limit must be an integer from 1 to 500", ""},
		{"list bad cursor", http.MethodGet, flagPath + "?cursor=%21%21", "", nil, 400, "cursor", "not one this server issued", ""},
		{"list unknown parameter", http.MethodGet, flagPath + "?sort=key", "", nil, 400, "sort", "unknown query parameter", ""},
		{"audit without token", http.MethodGet, "/api/v1/audit", "", noAuth, 401, "", "missing bearer token", ""},
		{"audit bad since", http.MethodGet, "/api/v1/audit?since=yesterday", "", nil, 400, "since", "", ""},
		{"audit bad limit", http.MethodGet, "/api/v1/audit?limit=501", "", nil, 400, "limit", "", ""},
		{"audit unknown parameter", http.MethodGet, "/api/v1/audit?envirnoment=x", "", nil, 400, "envirnoment", "", ""},
		{"audit bad cursor", http.MethodGet, "/api/v1/audit?cursor=zzz", "", nil, 400, "cursor", "", ""},
		{"ofrep malformed body", http.MethodPost, "/ofrep/v1/evaluate/flags/existing", `{"context":`, nil, 400, "", "", "PARSE_ERROR"},
		{"ofrep context not an object", http.MethodPost, "/ofrep/v1/evaluate/flags/existing", `{"context":[1]}`, nil, 400, "", "", "INVALID_CONTEXT"},
		{"ofrep unknown flag", http.MethodPost, "/ofrep/v1/evaluate/flags/missing", `{"context":{}}`, nil, 404, "", "", "FLAG_NOT_FOUND"},
		{"ofrep bulk malformed body", http.MethodPost, "/ofrep/v1/evaluate/flags", `{"context":`, nil, 400, "", "", "PARSE_ERROR"},
		{"unknown route", http.MethodGet, "/api/v2/nothing", "", nil, 404, "", "", ""},
		{"wrong method", http.MethodPatch, "/healthz", "", nil, 405, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := d.Command
			if strings.HasPrefix(tc.path, "/ofrep/") {
				base = d.Read
			}
			resp := d.Do(t, base, tc.method, tc.path, tc.body, tc.headers)
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.status, resp.Body)
			}
			body := resp.JSON(t)
			if tc.ofrep != "" {
				if body["errorCode"] != tc.ofrep || body["errorDetails"] == "" {
					t.Fatalf("OFREP error %v, want errorCode %s with details", body, tc.ofrep)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Fatalf("Content-Type %q, want application/problem+json", ct)
			}
			if body["status"] != float64(tc.status) || body["type"] == "" || body["title"] == "" {
				t.Fatalf("problem lacks type/title/status: %v", body)
			}
			if tc.field != "" && body["field"] != tc.field {
				t.Fatalf("problem field %v, want %q: %v", body["field"], tc.field, body)
			}
			if detail, _ := body["detail"].(string); !strings.Contains(detail, tc.detail) {
				t.Fatalf("problem detail %q does not say %q", detail, tc.detail)
			}
		})
	}
	if got := d.Do(t, d.Command, http.MethodGet, flagPath+"existing", "", nil).JSON(t); got["version"] != 1.0 {
		t.Fatalf("bad requests changed the flag: %v", got)
	}
}
