package evaluation_test

import (
	"net/http"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
)

func TestBulkEvaluation(t *testing.T) {
	h := started(t)
	h.mustDeliver(
		created(t, "e1", "zeta", 1, `{"state":"ENABLED","variants":{"n":12},"defaultVariant":"n"}`),
		created(t, "e2", "alpha", 1, `{"state":"DISABLED","variants":{"on":true},"defaultVariant":"on"}`),
		created(t, "e3", "mid", 1, `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"missing"}`),
		created(t, "e4", "gone", 1, boolFlag),
		archived(t, "e5", "gone", 2),
		created(t, "e6", "beta", 1, `{"state":"ENABLED","variants":{"a":"x"},"defaultVariant":"a","targeting":{"if":[true,"a"]},"metadata":{"owner":"me"}}`),
	)
	rec := h.bulk(`{"context":{"targetingKey":"user-1"}}`)
	assertResponse(t, rec, http.StatusOK, `{"flags":[`+
		`{"key":"alpha","reason":"DISABLED","metadata":{}},`+
		`{"key":"beta","reason":"TARGETING_MATCH","variant":"a","value":"x","metadata":{"owner":"me"}},`+
		`{"key":"mid","errorCode":"GENERAL","errorDetails":"flag 'mid' has a default variant 'missing' that is not one of its variants"},`+
		`{"key":"zeta","reason":"STATIC","variant":"n","value":12,"metadata":{}}]}`)
	if rec.Header().Get("ETag") == "" {
		t.Fatal("bulk response has no ETag")
	}
}

func TestBulkEvaluationEmptyEnvironment(t *testing.T) {
	h := started(t)
	rec := h.bulk(``)
	assertResponse(t, rec, http.StatusOK, `{"flags":[]}`)
	if rec.Header().Get("ETag") == "" {
		t.Fatal("bulk response has no ETag")
	}
}

func TestBulkETag(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	const body = `{"context":{"targetingKey":"user-1"}}`
	etag := h.bulk(body).Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if again := h.bulk(body).Header().Get("ETag"); again != etag {
		t.Fatalf("same request, different ETags: %s then %s", etag, again)
	}

	tests := []struct {
		name        string
		body        string
		ifNoneMatch string
		status      int
	}{
		{"matching", body, etag, http.StatusNotModified},
		{"weak", body, "W/" + etag, http.StatusNotModified},
		{"in a list", body, `"other", ` + etag + `, "third"`, http.StatusNotModified},
		{"any", body, "*", http.StatusNotModified},
		{"stale", body, `"0-000000000000000000000000"`, http.StatusOK},
		{"other context", `{"context":{"targetingKey":"user-2"}}`, etag, http.StatusOK},
		{"no header", body, "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := h.bulk(tt.body, "If-None-Match", tt.ifNoneMatch)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.status == http.StatusNotModified && rec.Body.Len() != 0 {
				t.Fatalf("304 with a body: %q", rec.Body.String())
			}
			if rec.Header().Get("ETag") == "" {
				t.Fatal("no ETag")
			}
		})
	}
}

func TestBulkETagDependsOnContext(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	seen := map[string]string{}
	for _, body := range []string{``, `{"context":{}}`, `{"context":{"targetingKey":"a"}}`, `{"context":{"targetingKey":"b"}}`} {
		etag := h.bulk(body).Header().Get("ETag")
		if prev, dup := seen[etag]; dup {
			t.Fatalf("bodies %q and %q share ETag %s", prev, body, etag)
		}
		seen[etag] = body
	}
}

func TestBulkETagChangesWithEvents(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	before := h.bulk(``).Header().Get("ETag")

	h.mustDeliver(event(t, "e2", flagsv1.TypeFlagStateChanged, env, "f", 2,
		`{"state":"DISABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`))
	rec := h.bulk(``, "If-None-Match", before)
	assertResponse(t, rec, http.StatusOK, `{"flags":[{"key":"f","reason":"DISABLED","metadata":{}}]}`)
	after := rec.Header().Get("ETag")
	if after == before {
		t.Fatalf("ETag %s did not change after an event", after)
	}
	if rec := h.bulk(``, "If-None-Match", after); rec.Code != http.StatusNotModified {
		t.Fatalf("new ETag: status = %d, want 304", rec.Code)
	}

	// An event of another environment leaves this environment's results, and ETag, alone.
	h.mustDeliver(event(t, "e3", flagsv1.TypeFlagCreated, "production", "p", 1, boolFlag))
	if rec := h.bulk(``, "If-None-Match", after); rec.Code != http.StatusNotModified {
		t.Fatalf("after another environment's event: status = %d, want 304", rec.Code)
	}
}

func TestBulkRequestBodies(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	ok := `{"flags":[{"key":"f","reason":"STATIC","variant":"on","value":true,"metadata":{}}]}`
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"empty body", ``, 200, ok},
		{"unknown fields ignored", `{"context":{"k":"v"},"flags":["f"]}`, 200, ok},
		{"malformed JSON", `{"context":`, 400,
			`{"errorCode":"PARSE_ERROR","errorDetails":"malformed JSON at byte 11: unexpected end of JSON input"}`},
		{"not an object", `"context"`, 400,
			`{"errorCode":"PARSE_ERROR","errorDetails":"request body must be a JSON object, got string"}`},
		{"context not an object", `{"context":true}`, 400,
			`{"errorCode":"INVALID_CONTEXT","errorDetails":"context must be a JSON object, got a boolean"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := h.bulk(tt.body)
			assertResponse(t, rec, tt.status, tt.want)
			if tt.status != http.StatusOK && rec.Header().Get("ETag") != "" {
				t.Fatal("an error response carries an ETag")
			}
		})
	}
}
