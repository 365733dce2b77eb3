package sdk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
	"github.com/switchyardhq/switchyard/sdk"
	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

// TestLocalEvaluationMatchesServer evaluates the same definitions and contexts on a
// running server (OFREP) and in-process from the synced snapshot, and requires the same
// answers: the SDK's local mode has the server's semantics.
func TestLocalEvaluationMatchesServer(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	flags := map[string]string{
		"static":    boolFlag,
		"disabled":  `{"state":"DISABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`,
		"null-dv":   `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":null}`,
		"pro":       proFlag,
		"object":    `{"state":"ENABLED","variants":{"a":{"color":"red","sizes":[1,2]},"b":{"color":"blue"}},"defaultVariant":"a","targeting":{"if":[{"in":["@example.com",{"var":"email"}]},"b"]}}`,
		"fraction":  `{"state":"ENABLED","variants":{"red":"r","blue":"b","green":"g"},"defaultVariant":"red","targeting":{"fractional":[["red",30],["blue",30],["green",40]]}}`,
		"fraction2": `{"state":"ENABLED","variants":{"a":1,"b":2},"defaultVariant":"a","targeting":{"fractional":[{"cat":[{"var":"$flagd.flagKey"},{"var":"email"}]},["a",50],["b",50]]}}`,
		"semver":    `{"state":"ENABLED","variants":{"new":true,"old":false},"defaultVariant":"old","targeting":{"if":[{"sem_ver":[{"var":"version"},">=","2.1.0"]},"new","old"]}}`,
		"strings":   `{"state":"ENABLED","variants":{"x":"x","y":"y","z":"z"},"defaultVariant":"z","targeting":{"if":[{"starts_with":[{"var":"email"},"admin"]},"x",{"ends_with":[{"var":"email"},".org"]},"y",null]}}`,
		"numbers":   `{"state":"ENABLED","variants":{"1":1.5,"2":2,"3":3},"defaultVariant":"3","targeting":{"if":[{">":[{"var":"age"},40]},2,{"<":[{"var":"age"},18]},1]}}`,
		"bad-var":   `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"var":"chosen"}}`,
		"timestamp": `{"state":"ENABLED","variants":{"future":true,"past":false},"defaultVariant":"past","targeting":{"if":[{">":[{"var":"$flagd.timestamp"},1000]},"future"]}}`,
	}
	for key, def := range flags {
		srv.PutFlag(key, def)
	}
	contexts := []map[string]any{
		nil,
		{"targetingKey": "user-1"},
		{"targetingKey": "user-2", "plan": "pro", "email": "ann@example.com", "version": "2.1.0", "age": 41},
		{"targetingKey": "user-3", "plan": "free", "email": "admin@x.org", "version": "v1.9", "age": 12},
		{"targetingKey": "user-4", "email": "bob@y.org", "version": 3, "age": "20"},
		{"targetingKey": 42, "email": 7, "chosen": "missing"},
		{"targetingKey": "user-5", "chosen": "on"},
	}
	for i := range 40 {
		contexts = append(contexts, map[string]any{"targetingKey": fmt.Sprintf("bucket-%d", i), "email": fmt.Sprintf("u%d@z.com", i)})
	}

	local := newClient(t, sdk.Options{BaseURL: srv.URL(), LocalEvaluation: true, Sync: sdk.SyncOptions{PollInterval: time.Hour}})
	ctx := ctxT(t)
	if err := local.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	remote, err := ofrephttp.New(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for key := range flags {
		for _, evalCtx := range contexts {
			want, err := remote.EvaluateFlag(ctx, key, evalCtx)
			var ee *ofrephttp.EvaluationError
			wantCode := ""
			if errors.As(err, &ee) {
				wantCode = ee.ErrorCode
			} else if err != nil {
				t.Fatalf("server: %s: %v", key, err)
			}
			got := evalLike(t, local, key, evalCtx, want.Value)
			if got.source != sdk.SourceLocal {
				t.Fatalf("%s answered from %s, want local", key, got.source)
			}
			if got.code != wantCode || wantCode == "" && (got.reason != want.Reason || got.variant != want.Variant || !jsonEqual(got.value, want.Value)) {
				t.Errorf("%s in %v: local %s/%s/%s error %q, server %s/%s/%s error %q", key, evalCtx,
					got.reason, got.variant, got.value, got.code, want.Reason, want.Variant, want.Value, wantCode)
			}
			compared++
		}
	}
	t.Logf("%d evaluations compared, local == server", compared)
}

type localAnswer struct {
	reason, variant, code string
	value                 []byte
	source                sdk.Source
}

// evalLike evaluates key locally with the typed method that fits the server's value.
func evalLike(t *testing.T, c *sdk.Client, key string, evalCtx map[string]any, serverValue json.RawMessage) localAnswer {
	ctx := ctxT(t)
	var v any
	_ = json.Unmarshal(serverValue, &v)
	pack := func(value any, variant, reason, code string, src sdk.Source) localAnswer {
		b, _ := json.Marshal(value)
		if variant == "" {
			b = nil
		}
		return localAnswer{reason: reason, variant: variant, code: code, value: b, source: src}
	}
	switch v.(type) {
	case string:
		r := c.String(ctx, key, "", evalCtx)
		return pack(r.Value, r.Variant, r.EvaluatedReason, r.ErrorCode, r.Source)
	case float64:
		r := c.Float(ctx, key, 0, evalCtx)
		return pack(r.Value, r.Variant, r.EvaluatedReason, r.ErrorCode, r.Source)
	case map[string]any, []any:
		r := c.Object(ctx, key, nil, evalCtx)
		return pack(r.Value, r.Variant, r.EvaluatedReason, r.ErrorCode, r.Source)
	default: // bool, or no value
		r := c.Boolean(ctx, key, false, evalCtx)
		return pack(r.Value, r.Variant, r.EvaluatedReason, r.ErrorCode, r.Source)
	}
}

func jsonEqual(a, b []byte) bool {
	if len(b) == 0 {
		return string(a) == "null" || len(a) == 0
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
