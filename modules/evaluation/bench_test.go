package evaluation_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/storage"
)

const benchContext = `{"context":{"targetingKey":"user-123","email":"someone@example.com","plan":"pro","age":42}}`

// benchHarness is a started module with n flags of mixed types in the default environment.
func benchHarness(b *testing.B, n int, opts ...depsOption) *harness {
	b.Helper()
	h := newHarnessOn(b, storage.SQLite, opts...)
	h.start()
	defs := []string{
		boolFlag,
		`{"state":"ENABLED","variants":{"a":"alpha","b":"beta"},"defaultVariant":"b","metadata":{"team":"growth"}}`,
		`{"state":"ENABLED","variants":{"n":42,"m":7},"defaultVariant":"n"}`,
		`{"state":"ENABLED","variants":{"o":{"color":"red","sizes":[1,2]}},"defaultVariant":"o","targeting":{"if":[true,"o"]}}`,
		`{"state":"DISABLED","variants":{"on":true},"defaultVariant":"on"}`,
	}
	for i := range n {
		key := fmt.Sprintf("flag-%04d", i)
		h.mustDeliver(event(b, "bench-"+key, flagsv1.TypeFlagCreated, env, key, 1, defs[i%len(defs)]))
	}
	return h
}

func BenchmarkEvaluateFlag(b *testing.B) {
	h := benchHarness(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags/flag-0001", strings.NewReader(benchContext))
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
}

func BenchmarkEvaluateFlags(b *testing.B) {
	h := benchHarness(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags", strings.NewReader(benchContext))
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
}
