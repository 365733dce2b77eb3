//go:build contract

package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pact-foundation/pact-go/v2/consumer"
	"github.com/pact-foundation/pact-go/v2/matchers"
	"github.com/pact-foundation/pact-go/v2/models"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
	"github.com/switchyardhq/switchyard/contracts/pacttest"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
	"github.com/switchyardhq/switchyard/sdk"
)

// Provider states of the OFREP pact. The provider test (modules/evaluation) sets each one
// up by feeding flag events to the evaluation module; the names are the contract between
// the two tests.
const (
	pactStateBooleanFlag    = "an enabled boolean flag 'new-checkout' with default variant 'on' and no targeting"
	pactStateStringFlag     = "an enabled string flag 'banner-text' with default variant 'winter' and no targeting"
	pactStateNoFlag         = "no flag 'missing-flag' exists"
	pactStateDisabledFlag   = "a disabled boolean flag 'legacy-search' with metadata team 'search'"
	pactStateCodeDefault    = "an enabled boolean flag 'dark-mode' whose default variant is null"
	pactStateBrokenFlag     = "a flag 'broken-flag' whose default variant is not one of its variants"
	pactStateBulkFlags      = "an enabled boolean flag 'new-checkout' and a disabled flag 'legacy-search'"
	pactStateBulkETagIsHeld = "an enabled boolean flag 'new-checkout', and the client holds the current bulk ETag for its context"
	// States of the SDK's snapshot and change-stream interactions.
	pactStateSnapshotETagIsHeld = "an enabled boolean flag 'new-checkout', and the client holds the current snapshot ETag"
	pactStateStreamsFull        = "the server already serves as many change streams as it allows"
)

const (
	pactSinglePath = ofrepv1.PathEvaluateFlags + "/"
	// pactETagExample is what an ETag of the evaluation module looks like; the consumer
	// treats ETags as opaque, so the pact matches any entity tag.
	pactETagExample = `"1-0123456789abcdef01234567"`
	pactETagRegex   = `^(W/)?"[^"]*"$`
)

// pactEvalCtx is the evaluation context every interaction sends.
func pactEvalCtx() map[string]any { return map[string]any{"targetingKey": "user-1"} }

// pactContext is the request body the client makes of pactEvalCtx; the provider may see
// any targeting key.
func pactContext() pactObject {
	return pactObject{"context": pactObject{"targetingKey": matchers.Like("user-1")}}
}

// pactObject is a JSON object whose values may be matchers.
type pactObject = map[string]any

// pactInteraction is one request the OFREP client makes and what it needs back, driven
// through the real client against the mock server.
type pactInteraction struct {
	state, description string
	params             map[string]any // of the provider state
	request            func(*consumer.V4UnconfiguredInteraction) *consumer.V4InteractionWithRequest
	status             int
	response           consumer.V4ResponseBuilderFunc
	exercise           func(ctx context.Context, c *ofrephttp.Client, baseURL string) error
}

func TestPactConsumerOFREPClient(t *testing.T) {
	mock, err := consumer.NewV4Pact(consumer.MockHTTPProviderConfig{
		Consumer: pacttest.OFREPClient,
		Provider: pacttest.Evaluation,
		PactDir:  pacttest.Dir(t),
		LogDir:   t.TempDir(),
	})
	if err != nil {
		t.Fatalf("new pact: %v", err)
	}
	for _, in := range pactInteractions() {
		t.Run(in.description, func(t *testing.T) {
			err := in.request(mock.AddInteraction().
				GivenWithParameter(models.ProviderState{Name: in.state, Parameters: in.params}).
				UponReceiving(in.description)).
				WillRespondWith(in.status, in.response).
				ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
					base := fmt.Sprintf("http://%s:%d", cfg.Host, cfg.Port)
					c, err := ofrephttp.New(base)
					if err != nil {
						return err
					}
					return in.exercise(context.Background(), c, base)
				})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func pactInteractions() []pactInteraction {
	single := func(key string) func(*consumer.V4UnconfiguredInteraction) *consumer.V4InteractionWithRequest {
		return func(i *consumer.V4UnconfiguredInteraction) *consumer.V4InteractionWithRequest {
			return i.WithRequest("POST", pactSinglePath+key, func(b *consumer.V4RequestBuilder) {
				b.Header("Content-Type", matchers.S("application/json")).JSONBody(pactContext())
			})
		}
	}
	body := func(m pactObject) consumer.V4ResponseBuilderFunc {
		return func(b *consumer.V4ResponseBuilder) {
			b.Header("Content-Type", matchers.S("application/json")).JSONBody(m)
		}
	}
	// exactBody pins a whole single evaluation, which (OFREP ADR-0008) also names where
	// its change notifications stream.
	exactBody := func(m pactObject) consumer.V4ResponseBuilderFunc {
		whole := pactObject{"eventStreams": []any{pactObject{"type": ofrepv1.EventStreamTypeSSE,
			"endpoint": pactObject{"requestUri": ofrepv1.PathEventStream}}}}
		for k, v := range m {
			whole[k] = v
		}
		return func(b *consumer.V4ResponseBuilder) {
			b.Header("Content-Type", matchers.S("application/json")).JSONBody(matchers.Equality(whole))
		}
	}
	return []pactInteraction{
		{
			state: pactStateBooleanFlag, description: "a single evaluation of an enabled boolean flag",
			request: single("new-checkout"), status: 200,
			response: body(pactObject{
				"key": matchers.S("new-checkout"), "reason": matchers.S(ofrepv1.ReasonStatic),
				"variant": matchers.Like("on"), "value": matchers.Like(true),
			}),
			exercise: func(ctx context.Context, c *ofrephttp.Client, _ string) error {
				ev, err := c.EvaluateFlag(ctx, "new-checkout", pactEvalCtx())
				if err != nil {
					return err
				}
				return pactExpect(ev, "new-checkout", ofrepv1.ReasonStatic, "on", true)
			},
		},
		{
			state: pactStateStringFlag, description: "a single evaluation of a string flag",
			request: single("banner-text"), status: 200,
			response: body(pactObject{
				"key": matchers.S("banner-text"), "reason": matchers.S(ofrepv1.ReasonStatic),
				"variant": matchers.Like("winter"), "value": matchers.Like("Winter sale"),
			}),
			exercise: func(ctx context.Context, c *ofrephttp.Client, _ string) error {
				ev, err := c.EvaluateFlag(ctx, "banner-text", pactEvalCtx())
				if err != nil {
					return err
				}
				return pactExpect(ev, "banner-text", ofrepv1.ReasonStatic, "winter", "Winter sale")
			},
		},
		{
			state: pactStateNoFlag, description: "a single evaluation of an unknown flag",
			request: single("missing-flag"), status: 404,
			response: body(pactObject{
				"key": matchers.S("missing-flag"), "errorCode": matchers.S(ofrepv1.ErrorFlagNotFound),
				"errorDetails": matchers.Like("flag 'missing-flag' not found in environment 'development'"),
			}),
			exercise: func(ctx context.Context, c *ofrephttp.Client, _ string) error {
				_, err := c.EvaluateFlag(ctx, "missing-flag", pactEvalCtx())
				return pactExpectError(err, 404, "missing-flag", ofrepv1.ErrorFlagNotFound)
			},
		},
		{
			// A code default is the absence of a value, and pact lets a response have keys
			// the pact does not name: only an equality matcher on the whole body pins that
			// no value (nor variant) comes back. Otherwise the client would take a value sent
			// for a DISABLED flag for the flag's value instead of using its code default.
			state: pactStateDisabledFlag, description: "a single evaluation of a disabled flag",
			request: single("legacy-search"), status: 200,
			response: exactBody(pactDisabledBody()),
			exercise: func(ctx context.Context, c *ofrephttp.Client, _ string) error {
				ev, err := c.EvaluateFlag(ctx, "legacy-search", pactEvalCtx())
				if err != nil {
					return err
				}
				if ev.Metadata["team"] != "search" {
					return fmt.Errorf("metadata = %v, want team search", ev.Metadata)
				}
				return pactExpect(ev, "legacy-search", ofrepv1.ReasonDisabled, "", nil)
			},
		},
		{
			state: pactStateCodeDefault, description: "a single evaluation of a flag whose default is the code default",
			request: single("dark-mode"), status: 200,
			response: exactBody(pactObject{"key": "dark-mode", "reason": ofrepv1.ReasonDefault, "metadata": pactObject{}}),
			exercise: func(ctx context.Context, c *ofrephttp.Client, _ string) error {
				ev, err := c.EvaluateFlag(ctx, "dark-mode", pactEvalCtx())
				if err != nil {
					return err
				}
				return pactExpect(ev, "dark-mode", ofrepv1.ReasonDefault, "", nil)
			},
		},
		{
			state: pactStateBrokenFlag, description: "a single evaluation of a flag that cannot be evaluated",
			request: single("broken-flag"), status: 400,
			response: body(pactObject{
				"key": matchers.S("broken-flag"), "errorCode": matchers.S(ofrepv1.ErrorGeneral),
				"errorDetails": matchers.Like("flag 'broken-flag' has a default variant 'gone' that is not one of its variants"),
			}),
			exercise: func(ctx context.Context, c *ofrephttp.Client, _ string) error {
				_, err := c.EvaluateFlag(ctx, "broken-flag", pactEvalCtx())
				return pactExpectError(err, 400, "broken-flag", ofrepv1.ErrorGeneral)
			},
		},
		{
			state: pactStateBulkFlags, description: "a bulk evaluation",
			request: func(i *consumer.V4UnconfiguredInteraction) *consumer.V4InteractionWithRequest {
				return i.WithRequest("POST", ofrepv1.PathEvaluateFlags, func(b *consumer.V4RequestBuilder) {
					b.Header("Content-Type", matchers.S("application/json")).JSONBody(pactContext())
				})
			},
			status: 200,
			response: func(b *consumer.V4ResponseBuilder) {
				b.Header("Content-Type", matchers.S("application/json")).
					Header("ETag", matchers.Regex(pactETagExample, pactETagRegex)).
					JSONBody(pactObject{"flags": matchers.ArrayContaining([]any{
						pactObject{"key": matchers.S("new-checkout"), "reason": matchers.S(ofrepv1.ReasonStatic),
							"variant": matchers.Like("on"), "value": matchers.Like(true)},
						matchers.Equality(pactDisabledBody()),
					})})
			},
			exercise: func(ctx context.Context, c *ofrephttp.Client, _ string) error {
				res, err := c.EvaluateFlags(ctx, pactEvalCtx(), "")
				if err != nil {
					return err
				}
				if res.NotModified || res.ETag != pactETagExample || len(res.Flags) != 2 {
					return fmt.Errorf("bulk result = %+v, want two flags and ETag %s", res, pactETagExample)
				}
				if err := pactExpect(res.Flags[0], "new-checkout", ofrepv1.ReasonStatic, "on", true); err != nil {
					return err
				}
				return pactExpect(res.Flags[1], "legacy-search", ofrepv1.ReasonDisabled, "", nil)
			},
		},
		{
			// The SDK's sync: the definitions snapshot it evaluates locally and persists
			// as its last good snapshot, fetched and evaluated by a real sdk.Client.
			state: pactStateBulkFlags, description: "a definitions snapshot",
			request: func(i *consumer.V4UnconfiguredInteraction) *consumer.V4InteractionWithRequest {
				return i.WithRequest("GET", snapshotv1.Path, func(b *consumer.V4RequestBuilder) {
					b.Header("Accept", matchers.S("application/json"))
				})
			},
			status: 200,
			response: func(b *consumer.V4ResponseBuilder) {
				b.Header("Content-Type", matchers.S("application/json")).
					Header("ETag", matchers.Regex(pactETagExample, pactETagRegex)).
					JSONBody(pactObject{
						"environment": matchers.Like("development"),
						"revision":    matchers.Integer(2),
						"flags": pactObject{
							"new-checkout": pactObject{"state": matchers.S("ENABLED"), "defaultVariant": matchers.S("on"),
								"variants": pactObject{"on": true, "off": false}},
							"legacy-search": pactObject{"state": matchers.S("DISABLED"),
								"metadata": pactObject{"team": matchers.S("search")}},
						},
					})
			},
			exercise: func(ctx context.Context, _ *ofrephttp.Client, baseURL string) error {
				c, err := sdk.New(sdk.Options{BaseURL: baseURL, LocalEvaluation: true, Logger: quietLogger(),
					Sync: sdk.SyncOptions{PollInterval: time.Hour, DisableStream: true}})
				if err != nil {
					return err
				}
				defer func() { _ = c.Close() }()
				if err := c.WaitReady(ctx); err != nil {
					return err
				}
				if st := c.Stats(); st.State != sdk.StateReady || st.SnapshotETag != pactETagExample {
					return fmt.Errorf("after the snapshot: state %s, ETag %s; want READY and %s", st.State, st.SnapshotETag, pactETagExample)
				}
				on := c.Boolean(ctx, "new-checkout", false, pactEvalCtx())
				off := c.Boolean(ctx, "legacy-search", true, pactEvalCtx())
				if !on.Value || on.Reason != ofrepv1.ReasonStatic || on.Source != sdk.SourceLocal ||
					!off.Value || off.Reason != ofrepv1.ReasonDisabled || off.Metadata["team"] != "search" {
					return fmt.Errorf("local evaluations %+v and %+v, want new-checkout on (STATIC) and legacy-search DISABLED", on, off)
				}
				return nil
			},
		},
		{
			// As for the bulk ETag, the provider's state handler returns the snapshot's
			// current ETag as "etag", which the verifier puts into If-None-Match.
			state: pactStateSnapshotETagIsHeld, description: "a definitions snapshot with the current ETag",
			request: func(i *consumer.V4UnconfiguredInteraction) *consumer.V4InteractionWithRequest {
				return i.WithRequest("GET", snapshotv1.Path, func(b *consumer.V4RequestBuilder) {
					b.Header("Accept", matchers.S("application/json")).
						Header("If-None-Match", matchers.FromProviderState("${etag}", pactETagExample))
				})
			},
			status: 304,
			response: func(b *consumer.V4ResponseBuilder) {
				b.Header("ETag", matchers.Regex(pactETagExample, pactETagRegex))
			},
			exercise: func(ctx context.Context, c *ofrephttp.Client, _ string) error {
				res, err := c.FetchSnapshot(ctx, pactETagExample)
				if err != nil {
					return err
				}
				if !res.NotModified || res.ETag != pactETagExample || res.Body != nil {
					return fmt.Errorf("snapshot result = %+v, want not modified with ETag %s", res, pactETagExample)
				}
				return nil
			},
		},
		{
			// The change stream's refusal: the SDK reconnects after the server's
			// Retry-After (with jitter) instead of hammering it. (The stream itself never
			// ends, so a request/response pact cannot hold it; the SDK's tests run it
			// against the real server.)
			state: pactStateStreamsFull, description: "a change stream the server has no room for",
			request: func(i *consumer.V4UnconfiguredInteraction) *consumer.V4InteractionWithRequest {
				return i.WithRequest("GET", ofrepv1.PathEventStream, func(b *consumer.V4RequestBuilder) {
					b.Header("Accept", matchers.S("text/event-stream"))
				})
			},
			status: 503,
			response: func(b *consumer.V4ResponseBuilder) {
				b.Header("Retry-After", matchers.Regex("5", `^[0-9]+$`))
			},
			exercise: func(ctx context.Context, c *ofrephttp.Client, baseURL string) error {
				err := c.Watch(ctx, baseURL+ofrepv1.PathEventStream, func(ofrepv1.ChangeEvent) {})
				var he *ofrephttp.HTTPError
				if !errors.As(err, &he) || he.Status != 503 || he.RetryAfter != 5*time.Second {
					return fmt.Errorf("watch = %v, want an HTTP 503 with a Retry-After of 5 s", err)
				}
				return nil
			},
		},
		{
			// The ETag depends on the provider's snapshot revision and on the request, so
			// the consumer cannot know it: the provider's state handler computes the current
			// one for the context it is given and returns it as "etag", which the verifier
			// puts into If-None-Match.
			state: pactStateBulkETagIsHeld, description: "a bulk evaluation with the current ETag",
			params: map[string]any{"context": pactEvalCtx()},
			request: func(i *consumer.V4UnconfiguredInteraction) *consumer.V4InteractionWithRequest {
				return i.WithRequest("POST", ofrepv1.PathEvaluateFlags, func(b *consumer.V4RequestBuilder) {
					b.Header("Content-Type", matchers.S("application/json")).
						Header("If-None-Match", matchers.FromProviderState("${etag}", pactETagExample)).
						// The provider computes the ETag over the request's bytes, from the
						// same context given as a state parameter: one key per object, so
						// that every JSON encoder writes the same bytes.
						JSONBody(pactObject{"context": pactObject{"targetingKey": matchers.S("user-1")}})
				})
			},
			status: 304,
			response: func(b *consumer.V4ResponseBuilder) {
				b.Header("ETag", matchers.Regex(pactETagExample, pactETagRegex))
			},
			exercise: func(ctx context.Context, c *ofrephttp.Client, _ string) error {
				res, err := c.EvaluateFlags(ctx, pactEvalCtx(), pactETagExample)
				if err != nil {
					return err
				}
				if !res.NotModified || res.ETag != pactETagExample || res.Flags != nil {
					return fmt.Errorf("bulk result = %+v, want not modified with ETag %s", res, pactETagExample)
				}
				return nil
			},
		},
	}
}

// pactDisabledBody is the whole evaluation of the disabled flag: no value, no variant.
func pactDisabledBody() pactObject {
	return pactObject{"key": "legacy-search", "reason": ofrepv1.ReasonDisabled, "metadata": pactObject{"team": "search"}}
}

// pactExpect checks a successful evaluation; value nil means none (the code default).
func pactExpect(ev ofrepv1.Evaluation, key, reason, variant string, value any) error {
	if ev.Key != key || ev.Reason != reason || ev.Variant != variant || ev.ErrorCode != "" {
		return fmt.Errorf("evaluation = %+v, want key %s, reason %s, variant %q", ev, key, reason, variant)
	}
	if value == nil {
		if ev.Value != nil {
			return fmt.Errorf("evaluation of %s has value %s, want none (the code default)", key, ev.Value)
		}
		return nil
	}
	want, err := json.Marshal(value)
	if err != nil {
		return err
	}
	if string(ev.Value) != string(want) {
		return fmt.Errorf("evaluation of %s has value %s, want %s", key, ev.Value, want)
	}
	return nil
}

func pactExpectError(err error, status int, key, code string) error {
	var ee *ofrephttp.EvaluationError
	if !errors.As(err, &ee) {
		return fmt.Errorf("err = %v, want an *ofrephttp.EvaluationError", err)
	}
	if ee.Status != status || ee.Key != key || ee.ErrorCode != code || ee.ErrorDetails == "" {
		return fmt.Errorf("evaluation error = %+v, want status %d, key %s, code %s and details", ee, status, key, code)
	}
	return nil
}
