package evaluation_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/sqlitedb"
)

func TestNewRejectsMissingDeps(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "evaluation.db"))
	tests := []struct {
		name string
		deps evaluation.Deps
		want string
	}{
		{"no db", evaluation.Deps{Logger: discardLogger(), DefaultEnvironment: env}, "DB"},
		{"no logger", evaluation.Deps{DB: db, DefaultEnvironment: env}, "Logger"},
		{"no environment", evaluation.Deps{DB: db, Logger: discardLogger()}, "DefaultEnvironment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mod, err := evaluation.New(tt.deps)
			if err == nil || mod != nil {
				t.Fatalf("New() = %v, %v; want an error", mod, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not name %s", err, tt.want)
			}
		})
	}
}

func TestEvaluateFlag(t *testing.T) {
	tests := []struct {
		name   string
		def    string // "" leaves the key unknown
		body   string
		status int
		want   string
	}{
		{"boolean is static", boolFlag, `{"context":{}}`, 200,
			`{"key":"f","reason":"STATIC","variant":"on","value":true,"metadata":{}}`},
		{"string", `{"state":"ENABLED","variants":{"a":"alpha","b":"beta"},"defaultVariant":"b"}`, `{}`, 200,
			`{"key":"f","reason":"STATIC","variant":"b","value":"beta","metadata":{}}`},
		{"integer stays an integer", `{"state":"ENABLED","variants":{"big":9007199254740993,"small":1},"defaultVariant":"big"}`, ``, 200,
			`{"key":"f","reason":"STATIC","variant":"big","value":9007199254740993,"metadata":{}}`},
		{"float stays a float", `{"state":"ENABLED","variants":{"pi":3.14159,"one":1.0},"defaultVariant":"one"}`, ``, 200,
			`{"key":"f","reason":"STATIC","variant":"one","value":1.0,"metadata":{}}`},
		{"object", `{"state":"ENABLED","variants":{"cfg":{ "color" : "red", "sizes":[1, 2.5] }},"defaultVariant":"cfg"}`, ``, 200,
			`{"key":"f","reason":"STATIC","variant":"cfg","value":{"color":"red","sizes":[1,2.5]},"metadata":{}}`},
		{"metadata", `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","metadata":{"team":"growth","tier":2,"beta":true}}`, ``, 200,
			`{"key":"f","reason":"STATIC","variant":"on","value":true,"metadata":{"beta":true,"team":"growth","tier":2}}`},
		{"disabled has no value", `{"state":"DISABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"team":"x"}}`, ``, 200,
			`{"key":"f","reason":"DISABLED","metadata":{"team":"x"}}`},
		{"null default variant is the code default", `{"state":"ENABLED","variants":{"on":true},"defaultVariant":null}`, ``, 200,
			`{"key":"f","reason":"DEFAULT","metadata":{}}`},
		{"absent default variant is the code default", `{"state":"ENABLED","variants":{"on":true}}`, ``, 200,
			`{"key":"f","reason":"DEFAULT","metadata":{}}`},
		{"targeting match", `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"==":[{"var":"email"},"a@b.c"]},"on",null]}}`,
			`{"context":{"email":"a@b.c"}}`, 200,
			`{"key":"f","reason":"TARGETING_MATCH","variant":"on","value":true,"metadata":{}}`},
		{"targeting without a match falls back to the default variant", `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"==":[{"var":"email"},"a@b.c"]},"on",null]}}`,
			`{"context":{"email":"x@y.z"}}`, 200,
			`{"key":"f","reason":"DEFAULT","variant":"off","value":false,"metadata":{}}`},
		{"targeting without a match and no default variant is the code default", `{"state":"ENABLED","variants":{"on":true,"off":false},"targeting":{"if":[{"==":[{"var":"email"},"a@b.c"]},"on",null]}}`,
			`{"context":{}}`, 200,
			`{"key":"f","reason":"DEFAULT","metadata":{}}`},
		{"empty targeting is static", `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{ }}`, ``, 200,
			`{"key":"f","reason":"STATIC","variant":"on","value":true,"metadata":{}}`},
		{"default variant that is not a variant", `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"gone"}`, ``, 400,
			`{"key":"f","errorCode":"GENERAL","errorDetails":"flag 'f' has a default variant 'gone' that is not one of its variants"}`},
		{"unknown state", `{"state":"PAUSED","variants":{"on":true},"defaultVariant":"on"}`, ``, 400,
			`{"key":"f","errorCode":"GENERAL","errorDetails":"flag 'f' has an unknown state 'PAUSED'"}`},
		{"unknown flag", ``, `{"context":{"targetingKey":"u1"}}`, 404,
			`{"key":"f","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag 'f' not found in environment 'development'"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := started(t)
			if tt.def != "" {
				h.mustDeliver(created(t, "e1", "f", 1, tt.def))
			}
			assertResponse(t, h.evaluate("f", tt.body), tt.status, tt.want)
		})
	}
}

func TestEvaluateFlagRequestBodies(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	ok := `{"key":"f","reason":"STATIC","variant":"on","value":true,"metadata":{}}`
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"empty body", ``, 200, ok},
		{"whitespace body", " \n", 200, ok},
		{"no context", `{}`, 200, ok},
		{"null context", `{"context":null}`, 200, ok},
		{"unknown top-level fields are ignored", `{"context":{"a":1},"flags":["x"],"extra":{"y":true}}`, 200, ok},
		{"malformed JSON", `{"context":{"a":}`, 400,
			`{"key":"f","errorCode":"PARSE_ERROR","errorDetails":"malformed JSON at byte 17: invalid character '}' looking for beginning of value"}`},
		{"truncated JSON", `{"context":{"a":1}`, 400,
			`{"key":"f","errorCode":"PARSE_ERROR","errorDetails":"malformed JSON at byte 18: unexpected end of JSON input"}`},
		{"trailing data", `{"context":{}} x`, 400,
			`{"key":"f","errorCode":"PARSE_ERROR","errorDetails":"malformed JSON at byte 16: invalid character 'x' after top-level value"}`},
		{"body is not an object", `["context"]`, 400,
			`{"key":"f","errorCode":"PARSE_ERROR","errorDetails":"request body must be a JSON object, got array"}`},
		{"context is an array", `{"context":[1]}`, 400,
			`{"key":"f","errorCode":"INVALID_CONTEXT","errorDetails":"context must be a JSON object, got an array"}`},
		{"context is a string", `{"context":"user-1"}`, 400,
			`{"key":"f","errorCode":"INVALID_CONTEXT","errorDetails":"context must be a JSON object, got a string"}`},
		{"context is a number", `{"context":7}`, 400,
			`{"key":"f","errorCode":"INVALID_CONTEXT","errorDetails":"context must be a JSON object, got a number"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertResponse(t, h.evaluate("f", tt.body), tt.status, tt.want)
		})
	}
}

func TestEvaluateFlagBodyTooLarge(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	big := `{"context":{"pad":"` + strings.Repeat("x", httpx.MaxBodyBytes) + `"}}`
	for _, path := range []string{"/ofrep/v1/evaluate/flags/f", "/ofrep/v1/evaluate/flags"} {
		for _, length := range []int64{int64(len(big)), -1} { // announced, or found out while reading
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(big))
			req.ContentLength = length
			rec := httptest.NewRecorder()
			h.e.ServeHTTP(rec, req)
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("%s, length %d: status = %d, want 413", path, length, rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != httpx.ProblemContentType {
				t.Fatalf("%s, length %d: Content-Type = %q, want %q", path, length, ct, httpx.ProblemContentType)
			}
		}
	}
}

func TestEvaluateFlagKeyIsDecoded(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "team/checkout flow", 1, boolFlag))
	assertResponse(t, h.evaluate("team%2Fcheckout%20flow", ``), 200,
		`{"key":"team/checkout flow","reason":"STATIC","variant":"on","value":true,"metadata":{}}`)
}

func TestArchivedFlagIsNotFound(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag), archived(t, "e2", "f", 2))
	notFound := `{"key":"f","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag 'f' not found in environment 'development'"}`
	assertResponse(t, h.evaluate("f", ``), 404, notFound)
	assertResponse(t, h.bulk(``), 200, `{"flags":[]}`)

	h.mustDeliver(created(t, "e3", "f", 3, `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off"}`))
	assertResponse(t, h.evaluate("f", ``), 200, `{"key":"f","reason":"STATIC","variant":"off","value":false,"metadata":{}}`)
}

func TestOtherEnvironmentsAreNotServed(t *testing.T) {
	h := started(t)
	h.mustDeliver(event(t, "e1", flagsv1.TypeFlagCreated, "production", "f", 1, boolFlag))
	assertResponse(t, h.evaluate("f", ``), 404,
		`{"key":"f","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag 'f' not found in environment 'development'"}`)
	if got := h.revision("production"); got != 1 {
		t.Fatalf("production revision = %d, want 1", got)
	}
}

func TestNotReadyBeforeStart(t *testing.T) {
	h := newHarness(t)
	if err := h.mod.Ready(); err == nil {
		t.Fatal("Ready() = nil before Start")
	}
	// An event handled before Start is stored, and Start's load serves it.
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))

	want := `{"errorCode":"GENERAL","errorDetails":"evaluation snapshot is not loaded yet"}`
	for name, rec := range map[string]*httptest.ResponseRecorder{"single": h.evaluate("f", ``), "bulk": h.bulk(``)} {
		assertResponse(t, rec, http.StatusServiceUnavailable, want)
		if rec.Header().Get("Retry-After") == "" {
			t.Fatalf("%s: 503 without Retry-After", name)
		}
	}

	h.start()
	assertResponse(t, h.evaluate("f", ``), 200, `{"key":"f","reason":"STATIC","variant":"on","value":true,"metadata":{}}`)
}

func TestStartFailureIsReported(t *testing.T) {
	db, err := sqlitedb.Open(context.Background(), filepath.Join(t.TempDir(), "unmigrated.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	mod, err := evaluation.New(evaluation.Deps{DB: db, Logger: discardLogger(), DefaultEnvironment: env})
	if err != nil {
		t.Fatal(err)
	}
	if err := mod.Start(context.Background()); err == nil {
		t.Fatal("Start() over an unmigrated database = nil")
	}
	err = mod.Ready()
	if err == nil || !strings.Contains(err.Error(), "evaluation_environments") {
		t.Fatalf("Ready() = %v; want the load failure", err)
	}
}
