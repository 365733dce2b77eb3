//go:build contract

package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/pact-foundation/pact-go/v2/consumer"
	"github.com/pact-foundation/pact-go/v2/matchers"
	"github.com/pact-foundation/pact-go/v2/models"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
	"github.com/switchyardhq/switchyard/contracts/pacttest"
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
	exercise           func(context.Context, *ofrephttp.Client) error
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
					c, err := ofrephttp.New(fmt.Sprintf("http://%s:%d", cfg.Host, cfg.Port))
					if err != nil {
						return err
					}
					return in.exercise(context.Background(), c)
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
	exactBody := func(m pactObject) consumer.V4ResponseBuilderFunc {
		return func(b *consumer.V4ResponseBuilder) {
			b.Header("Content-Type", matchers.S("application/json")).JSONBody(matchers.Equality(m))
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
			exercise: func(ctx context.Context, c *ofrephttp.Client) error {
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
			exercise: func(ctx context.Context, c *ofrephttp.Client) error {
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
			exercise: func(ctx context.Context, c *ofrephttp.Client) error {
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
			exercise: func(ctx context.Context, c *ofrephttp.Client) error {
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
			exercise: func(ctx context.Context, c *ofrephttp.Client) error {
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
			exercise: func(ctx context.Context, c *ofrephttp.Client) error {
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
			exercise: func(ctx context.Context, c *ofrephttp.Client) error {
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
			exercise: func(ctx context.Context, c *ofrephttp.Client) error {
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
