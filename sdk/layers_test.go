package sdk_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/sdk"
	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

const (
	boolFlag   = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`
	stringFlag = `{"state":"ENABLED","variants":{"winter":"Winter sale","summer":"Summer sale"},"defaultVariant":"winter","metadata":{"team":"web"}}`
	proFlag    = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"on"]}}`
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testLogger logs through t, at debug level.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func newClient(t *testing.T, o sdk.Options) *sdk.Client {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	c, err := sdk.New(o)
	if err != nil {
		t.Fatalf("sdk.New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// expect checks the fields of a result that matter for layer tests.
func expect[T comparable](t *testing.T, what string, r sdk.Result[T], value T, reason string, src sdk.Source) {
	t.Helper()
	if r.Value != value || r.Reason != reason || r.Source != src {
		t.Errorf("%s = value %v, reason %s, source %s (error %s: %s); want %v, %s, %s",
			what, r.Value, r.Reason, r.Source, r.ErrorCode, r.ErrorMessage, value, reason, src)
	}
}

func TestPrimaryThenMemory(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	srv.PutFlag("new-checkout", boolFlag)
	srv.PutFlag("banner", stringFlag)
	srv.PutFlag("pro", proFlag)
	c := newClient(t, sdk.Options{BaseURL: srv.URL()})
	ctx := ctxT(t)
	user := map[string]any{"targetingKey": "u1", "plan": "pro"}

	expect(t, "first Boolean", c.Boolean(ctx, "new-checkout", false, user), true, ofrepv1.ReasonStatic, sdk.SourcePrimary)
	r := c.Boolean(ctx, "new-checkout", false, user)
	expect(t, "second Boolean", r, true, sdk.ReasonCached, sdk.SourceMemory)
	if r.EvaluatedReason != ofrepv1.ReasonStatic || r.Variant != "on" {
		t.Errorf("cached result = %+v, want evaluated reason STATIC, variant on", r)
	}
	s := c.String(ctx, "banner", "x", user)
	expect(t, "String", s, "Winter sale", ofrepv1.ReasonStatic, sdk.SourcePrimary)
	if s.Metadata["team"] != "web" {
		t.Errorf("metadata = %v, want team web", s.Metadata)
	}
	expect(t, "targeted", c.Boolean(ctx, "pro", false, user), true, ofrepv1.ReasonTargetingMatch, sdk.SourcePrimary)
	expect(t, "targeted, other context", c.Boolean(ctx, "pro", true, map[string]any{"targetingKey": "u2", "plan": "free"}),
		false, ofrepv1.ReasonDefault, sdk.SourcePrimary)

	nf := c.Boolean(ctx, "missing", true, user)
	expect(t, "missing flag", nf, true, sdk.ReasonError, sdk.SourcePrimary)
	if nf.ErrorCode != ofrepv1.ErrorFlagNotFound {
		t.Errorf("missing flag error code = %s, want FLAG_NOT_FOUND", nf.ErrorCode)
	}
	tm := c.Int(ctx, "banner", 7, user)
	expect(t, "type mismatch", tm, int64(7), sdk.ReasonError, sdk.SourceMemory)
	if tm.ErrorCode != ofrepv1.ErrorTypeMismatch {
		t.Errorf("type mismatch error code = %s", tm.ErrorCode)
	}
	if st := c.Stats(); st.Breakers[sdk.SourcePrimary] != sdk.BreakerClosed || st.State != sdk.StateReady {
		t.Errorf("stats = %+v, want the primary closed and READY", st)
	}
}
