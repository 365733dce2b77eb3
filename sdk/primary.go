package sdk

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
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
	d, err := newDecision(ev.Reason, ev.Variant, ev.Value)
	if err != nil {
		return answer{}, fmt.Errorf("decode the value of %q: %w", ev.Key, err)
	}
	return answer{d: d, metadata: ev.Metadata, source: src}, nil
}

// evaluation is the OFREP form of a, as Redis keeps it.
func (a answer) evaluation(key string) ofrepv1.Evaluation {
	ev := ofrepv1.Evaluation{Key: key, Reason: a.d.reason, Metadata: a.metadata, ErrorCode: a.d.errorCode, ErrorDetails: a.d.errorDetails}
	if v := a.d.value; v != nil {
		ev.Variant, ev.Value = a.d.variant, v.raw
	}
	return ev
}

// failed is a definitive failure answer: the caller's default with an error code.
func failed(src Source, code, msg string) answer {
	return answer{d: failedDecision(code, msg), source: src}
}
