package evaluation_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/targeting/testbed"
)

func TestFlagdTestbedThroughOFREP(t *testing.T) {
	tb := testbed.Load(t)
	h := newHarness(t)
	h.start()
	version := int64(0)
	for key, f := range tb.Flags {
		version++
		ev := created(t, fmt.Sprintf("tb-%d", version), key, 1, `{"state":"ENABLED","variants":{"x":true}}`)
		ev.After.Variants, ev.After.DefaultVariant, ev.After.Targeting = f.Variants, f.DefaultVariant, f.Targeting
		ev.Evaluators = tb.Evaluators
		h.mustDeliver(ev)
	}
	if len(tb.Cases) < 100 {
		t.Fatalf("testbed has %d cases, want at least 100", len(tb.Cases))
	}
	for i, tc := range tb.Cases {
		t.Run(fmt.Sprintf("%03d-%s", i, tc.Flag), func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"context": tc.Context})
			rec := h.evaluate(url.PathEscape(tc.Flag), string(body))
			var got struct {
				Value     json.RawMessage `json:"value"`
				Reason    string          `json:"reason"`
				ErrorCode string          `json:"errorCode"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("response %d %s: %v", rec.Code, rec.Body, err)
			}
			wantCode := tc.ErrorCode
			if tc.CompileError != "" {
				// The flags module refuses such a rule on write; a stored one is a PARSE_ERROR.
				wantCode = "PARSE_ERROR"
			}
			if got.ErrorCode != wantCode {
				t.Fatalf("errorCode %q, want %q: %d %s", got.ErrorCode, wantCode, rec.Code, rec.Body)
			}
			if wantCode != "" {
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("status %d for an evaluation error, want 400", rec.Code)
				}
				return
			}
			if tc.Reason != "" && got.Reason != tc.Reason {
				t.Errorf("reason %q, want %q: %s", got.Reason, tc.Reason, rec.Body)
			}
			if tc.Value != nil && !sameJSON(t, got.Value, tc.Value) {
				t.Errorf("value %s, want %s", got.Value, tc.Value)
			}
		})
	}
}

func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
