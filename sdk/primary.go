package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
	"github.com/switchyardhq/switchyard/sdk/internal/flageval"
)

// primaryLayer is Switchyard's OFREP API behind its breaker.
type primaryLayer struct {
	client *ofrephttp.Client
	br     *layerBreaker
}

// evaluate asks the server. An OFREP evaluation error (FLAG_NOT_FOUND, ...) is an
// answer, not a failure: the server is up and has spoken. Anything else is an error
// and the next layer is tried.
func (p *primaryLayer) evaluate(ctx context.Context, key string, evalCtx map[string]any) (answer, error) {
	ev, err := call(ctx, p.br, func(ctx context.Context) (ofrepv1.Evaluation, error) {
		return p.client.EvaluateFlag(ctx, key, evalCtx)
	})
	if err != nil {
		if ee, ok := errors.AsType[*ofrephttp.EvaluationError](err); ok {
			return failed(SourcePrimary, ee.ErrorCode, ee.ErrorDetails), nil
		}
		return answer{}, fmt.Errorf("primary: %w", err)
	}
	return answerOf(ev, SourcePrimary)
}

// answerOf turns an OFREP evaluation into an answer, its value decoded once.
func answerOf(ev ofrepv1.Evaluation, src Source) (answer, error) {
	if ev.ErrorCode != "" {
		return failed(src, ev.ErrorCode, ev.ErrorDetails), nil
	}
	d := &flageval.Decision{Reason: ev.Reason}
	if len(ev.Value) > 0 && string(ev.Value) != "null" {
		v := &flageval.Variant{Name: ev.Variant, Raw: ev.Value}
		if err := json.Unmarshal(ev.Value, &v.Value); err != nil {
			return answer{}, fmt.Errorf("decode the value of %q: %w", ev.Key, err)
		}
		d.Variant = v
	}
	return answer{d: d, metadata: ev.Metadata, source: src}, nil
}

// evaluation is the OFREP form of a, as Redis keeps it.
func (a answer) evaluation(key string) ofrepv1.Evaluation {
	ev := ofrepv1.Evaluation{Key: key, Reason: a.d.Reason, Metadata: a.metadata, ErrorCode: a.d.ErrorCode, ErrorDetails: a.d.ErrorDetails}
	if v := a.d.Variant; v != nil {
		ev.Variant, ev.Value = v.Name, v.Raw
	}
	return ev
}

// failed is a definitive failure answer: the caller's default with an error code.
func failed(src Source, code, msg string) answer {
	return answer{d: flageval.Failure(code, msg), source: src}
}
