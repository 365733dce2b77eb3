package sdk

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
)

const benchSnapshot = `{"environment":"development","revision":3,"flags":{
 "static":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"},
 "pro":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off",
        "targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"on"]}}}}`

// localClient is a Client in local-evaluation mode holding the snapshot doc, fresh,
// with no background work (Sync is not started).
func localClient(t testing.TB, doc string) *Client {
	t.Helper()
	c, err := New(Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	snap, err := snapshotv1.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	c.opts.LocalEvaluation = true
	c.snap.Store(compileSnapshot(snap, `"c3"`, "server", nil))
	c.syncHealthy.Store(true)
	return c
}

// typedSnapshot holds a flag per kind of answer: contracts/flageval decides, and the
// SDK types the value it chose.
const typedSnapshot = `{"environment":"development","revision":1,"metadata":{"team":"core","set":"s1"},
 "$evaluators":{"isPro":{"==":[{"var":"plan"},"pro"]}},
 "flags":{
 "static":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"team":"web","tier":1}},
 "disabled":{"state":"DISABLED","variants":{"on":true,"off":false},"defaultVariant":"on","targeting":{"if":[true,"on"]}},
 "code-default":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":null},
 "pro":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"$ref":"isPro"},"on"]}},
 "lost":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"if":[true,"gone"]}},
 "broken":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"nope":[1]}},
 "whole":{"state":"ENABLED","variants":{"three":3,"huge":1e20},"defaultVariant":"three","targeting":{"if":[{"var":"huge"},"huge"]}},
 "half":{"state":"ENABLED","variants":{"half":1.5},"defaultVariant":"half"},
 "banner":{"state":"ENABLED","variants":{"winter":"Winter sale"},"defaultVariant":"winter"},
 "object":{"state":"ENABLED","variants":{"a":{ "color" : "red", "sizes" : [1, 2] }},"defaultVariant":"a"},
 "null":{"state":"ENABLED","variants":{"nothing":null},"defaultVariant":"nothing"}}}`

// typed is a Result whatever its type, for comparisons.
type typed struct {
	value                 any
	variant, reason, code string
}

func typedOf[T any](r Result[T]) typed { return typed{r.Value, r.Variant, r.Reason, r.ErrorCode} }

// TestLocalEvaluationTyped evaluates flags in-process through the typed methods: the
// reason, variant and error code contracts/flageval decides, and the value typed (or
// TYPE_MISMATCH) by the SDK.
func TestLocalEvaluationTyped(t *testing.T) {
	c := localClient(t, typedSnapshot)
	ctx := context.Background()
	pro, free := map[string]any{"plan": "pro"}, map[string]any{"plan": "free"}
	tests := []struct {
		name string
		eval func() typed
		want typed
	}{
		{"static", func() typed { return typedOf(c.Boolean(ctx, "static", false, nil)) }, typed{true, "on", "STATIC", ""}},
		{"disabled: the code default", func() typed { return typedOf(c.Boolean(ctx, "disabled", false, pro)) }, typed{false, "", "DISABLED", ""}},
		{"no default variant: the code default", func() typed { return typedOf(c.Boolean(ctx, "code-default", true, nil)) }, typed{true, "", "DEFAULT", ""}},
		{"targeting match", func() typed { return typedOf(c.Boolean(ctx, "pro", false, pro)) }, typed{true, "on", "TARGETING_MATCH", ""}},
		{"targeting chooses none", func() typed { return typedOf(c.Boolean(ctx, "pro", true, free)) }, typed{false, "off", "DEFAULT", ""}},
		{"a context value that is not JSON", func() typed { return typedOf(c.Boolean(ctx, "pro", true, map[string]any{"plan": make(chan int)})) },
			typed{true, "", ReasonError, ofrepv1.ErrorInvalidContext}},
		{"a variant the flag lacks", func() typed { return typedOf(c.Boolean(ctx, "lost", true, nil)) }, typed{true, "", ReasonError, ofrepv1.ErrorGeneral}},
		{"a rule that does not compile", func() typed { return typedOf(c.Boolean(ctx, "broken", true, nil)) }, typed{true, "", ReasonError, ofrepv1.ErrorParse}},
		{"a flag not in the snapshot", func() typed { return typedOf(c.String(ctx, "absent", "x", nil)) }, typed{"x", "", ReasonError, ofrepv1.ErrorFlagNotFound}},
		{"Int of a whole number", func() typed { return typedOf(c.Int(ctx, "whole", 7, nil)) }, typed{int64(3), "three", "DEFAULT", ""}},
		{"Float of a whole number", func() typed { return typedOf(c.Float(ctx, "whole", 7, nil)) }, typed{3.0, "three", "DEFAULT", ""}},
		{"Int beyond int64", func() typed { return typedOf(c.Int(ctx, "whole", 7, map[string]any{"huge": true})) },
			typed{int64(7), "", ReasonError, ofrepv1.ErrorTypeMismatch}},
		{"Float beyond int64", func() typed { return typedOf(c.Float(ctx, "whole", 7, map[string]any{"huge": true})) },
			typed{1e20, "huge", "TARGETING_MATCH", ""}},
		{"Int of a fraction", func() typed { return typedOf(c.Int(ctx, "half", 7, nil)) }, typed{int64(7), "", ReasonError, ofrepv1.ErrorTypeMismatch}},
		{"Float of a fraction", func() typed { return typedOf(c.Float(ctx, "half", 7, nil)) }, typed{1.5, "half", "STATIC", ""}},
		{"String", func() typed { return typedOf(c.String(ctx, "banner", "", nil)) }, typed{"Winter sale", "winter", "STATIC", ""}},
		{"Boolean of a string", func() typed { return typedOf(c.Boolean(ctx, "banner", true, nil)) }, typed{true, "", ReasonError, ofrepv1.ErrorTypeMismatch}},
		{"String of a number", func() typed { return typedOf(c.String(ctx, "half", "d", nil)) }, typed{"d", "", ReasonError, ofrepv1.ErrorTypeMismatch}},
		{"Object", func() typed { return typedOf(c.Object(ctx, "object", nil, nil)) },
			typed{map[string]any{"color": "red", "sizes": []any{1.0, 2.0}}, "a", "STATIC", ""}},
		{"Object of a number", func() typed { return typedOf(c.Object(ctx, "half", "d", nil)) }, typed{"d", "", ReasonError, ofrepv1.ErrorTypeMismatch}},
		{"a null value: the code default, as OFREP reports it", func() typed { return typedOf(c.String(ctx, "null", "d", nil)) }, typed{"d", "", "STATIC", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.eval(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestLocalEvaluationDetails checks what comes with a local answer besides its value:
// the metadata (the flag set's with the flag's own laid over it), the failure's
// message, and an Object value that is the caller's to modify.
func TestLocalEvaluationDetails(t *testing.T) {
	c := localClient(t, typedSnapshot)
	ctx := context.Background()
	if md, want := c.Boolean(ctx, "static", false, nil).Metadata, map[string]any{"team": "web", "set": "s1", "tier": 1.0}; !reflect.DeepEqual(md, want) {
		t.Errorf("metadata of a flag with its own = %v, want %v", md, want)
	}
	if md, want := c.Boolean(ctx, "pro", false, nil).Metadata, map[string]any{"team": "core", "set": "s1"}; !reflect.DeepEqual(md, want) {
		t.Errorf("metadata of a flag without its own = %v, want the flag set's %v", md, want)
	}
	if r := c.Boolean(ctx, "lost", false, nil); !strings.Contains(r.ErrorMessage, "'gone'") || r.EvaluatedReason != ReasonError {
		t.Errorf("failure = %+v, want a message naming the variant and evaluated reason ERROR", r)
	}
	if r := c.Int(ctx, "half", 0, nil); r.ErrorMessage != "the flag's value 1.5 is not of the type asked for" {
		t.Errorf("type mismatch message = %q", r.ErrorMessage)
	}
	first := c.Object(ctx, "object", nil, nil).Value.(map[string]any)
	first["color"] = "changed"
	if again := c.Object(ctx, "object", nil, nil).Value.(map[string]any); again["color"] != "red" {
		t.Errorf("an Object value modified by one caller shows in the next evaluation: %v", again)
	}
}

func TestLocalStaticFlagDoesNotAllocate(t *testing.T) {
	c := localClient(t, benchSnapshot)
	ctx := context.Background()
	evalCtx := map[string]any{"targetingKey": "user-1", "plan": "pro"}
	r := c.Boolean(ctx, "static", false, evalCtx)
	if !r.Value || r.Reason != ofrepv1.ReasonStatic || r.Source != SourceLocal {
		t.Fatalf("Boolean = %+v, want true, STATIC, local", r)
	}
	typedC := localClient(t, typedSnapshot)
	for name, eval := range map[string]func(){
		"Boolean, static flag":   func() { c.Boolean(ctx, "static", false, evalCtx) },
		"Boolean, targeted flag": func() { c.Boolean(ctx, "pro", false, evalCtx) },
		"String, static flag":    func() { typedC.String(ctx, "banner", "", evalCtx) },
		"Int, targeted flag":     func() { typedC.Int(ctx, "whole", 0, nil) },
		"Float, static flag":     func() { typedC.Float(ctx, "half", 0, nil) },
	} {
		if n := testing.AllocsPerRun(1000, eval); n != 0 {
			t.Errorf("a local evaluation (%s) allocates %.1f times, want 0", name, n)
		}
	}
}

func BenchmarkLocalBooleanStatic(b *testing.B) {
	c := localClient(b, benchSnapshot)
	ctx := context.Background()
	evalCtx := map[string]any{"targetingKey": "user-1"}
	b.ReportAllocs()
	for b.Loop() {
		c.Boolean(ctx, "static", false, evalCtx)
	}
}

func BenchmarkLocalBooleanTargeted(b *testing.B) {
	c := localClient(b, benchSnapshot)
	ctx := context.Background()
	evalCtx := map[string]any{"targetingKey": "user-1", "plan": "pro"}
	b.ReportAllocs()
	for b.Loop() {
		c.Boolean(ctx, "pro", false, evalCtx)
	}
}

func BenchmarkMemoryCacheHit(b *testing.B) {
	c, err := New(Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	evalCtx := map[string]any{"targetingKey": "user-1"}
	ck, _ := cacheKey("static", evalCtx)
	a, _ := answerOf(ofrepv1.Evaluation{Key: "static", Reason: ofrepv1.ReasonStatic, Variant: "on", Value: []byte("true")}, SourcePrimary)
	c.memory.Set(ck, a)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c.Boolean(ctx, "static", false, evalCtx)
	}
}
