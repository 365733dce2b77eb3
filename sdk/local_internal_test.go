package sdk

import (
	"context"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
)

const benchSnapshot = `{"environment":"development","revision":3,"flags":{
 "static":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"},
 "pro":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off",
        "targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"on"]}}}}`

// localClient is a Client in local-evaluation mode holding benchSnapshot, fresh, with
// no background work (Sync is not started).
func localClient(t testing.TB) *Client {
	t.Helper()
	c, err := New(Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	snap, err := snapshotv1.Decode([]byte(benchSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	c.opts.LocalEvaluation = true
	c.snap.Store(compileSnapshot(snap, `"c3"`, "server", nil))
	c.syncHealthy.Store(true)
	return c
}

func TestLocalStaticFlagDoesNotAllocate(t *testing.T) {
	c := localClient(t)
	ctx := context.Background()
	evalCtx := map[string]any{"targetingKey": "user-1", "plan": "pro"}
	r := c.Boolean(ctx, "static", false, evalCtx)
	if !r.Value || r.Reason != ofrepv1.ReasonStatic || r.Source != SourceLocal {
		t.Fatalf("Boolean = %+v, want true, STATIC, local", r)
	}
	if n := testing.AllocsPerRun(1000, func() { c.Boolean(ctx, "static", false, evalCtx) }); n != 0 {
		t.Errorf("a local evaluation of a static flag allocates %.1f times, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { c.Boolean(ctx, "pro", false, evalCtx) }); n != 0 {
		t.Errorf("a local evaluation of a targeted flag allocates %.1f times, want 0", n)
	}
}

func BenchmarkLocalBooleanStatic(b *testing.B) {
	c := localClient(b)
	ctx := context.Background()
	evalCtx := map[string]any{"targetingKey": "user-1"}
	b.ReportAllocs()
	for b.Loop() {
		c.Boolean(ctx, "static", false, evalCtx)
	}
}

func BenchmarkLocalBooleanTargeted(b *testing.B) {
	c := localClient(b)
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
