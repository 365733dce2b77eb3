package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
	"github.com/switchyardhq/switchyard/platform/breaker"
)

// ErrBadInput marks an error caused by the caller's input (an evaluation context that
// cannot be encoded, say): it never counts against a layer.
var ErrBadInput = errors.New("bad input")

// BreakerState is where a layer's circuit breaker stands.
type BreakerState string

// The breaker states; BreakerDisabled is a layer that is not configured.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerHalfOpen BreakerState = "half-open"
	BreakerOpen     BreakerState = "open"
	BreakerDisabled BreakerState = "disabled"
)

// DefaultCounts is the default trigger of every layer's breaker: it reports whether err
// says the layer is down. Timeouts, refused or reset connections, HTTP 5xx and 429,
// Redis pool exhaustion and PostgreSQL connection or resource errors count. An OFREP
// evaluation error (FLAG_NOT_FOUND, INVALID_CONTEXT, ... : the server answered), any
// other 4xx, ErrBadInput and a cancelled caller never count.
func DefaultCounts(err error) bool {
	if err == nil || errors.Is(err, ErrBadInput) || errors.Is(err, context.Canceled) {
		return false
	}
	if _, ok := errors.AsType[*ofrephttp.EvaluationError](err); ok {
		return false
	}
	if errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) {
		return true
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		// Class 08: connection exceptions; 53: insufficient resources; 57P: the server
		// is shutting down or cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "53") || strings.HasPrefix(pe.Code, "57P")
	}
	if pgconn.Timeout(err) {
		return true
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*json.UnsupportedTypeError](err); ok {
		return false
	}
	return breaker.Transient(err)
}

// layerBreaker is one remote layer's breaker.
type layerBreaker struct {
	layer Source
	b     *breaker.Breaker[struct{}]
}

// newLayerBreaker builds layer's breaker from o; onChange runs after every trip and close.
func newLayerBreaker(layer Source, o BreakerOptions, log *slog.Logger, user Options, onChange func()) (*layerBreaker, error) {
	b, err := breaker.New[struct{}](breaker.Settings{
		Name:           "switchyard-sdk-" + layer.String(),
		CallTimeout:    o.CallTimeout,
		TripAfter:      o.TripAfter,
		Cooldown:       o.Cooldown,
		MaxCooldown:    o.MaxCooldown,
		HalfOpenProbes: o.HalfOpenProbes,
		Counts:         o.Counts,
		OnTrip: func(err error, failures uint32, cooldown time.Duration) {
			log.Warn("switchyard sdk: circuit breaker opened", "layer", layer.String(), "error", err,
				"failures", failures, "cooldown", cooldown)
			if user.OnTrip != nil {
				user.OnTrip(layer, err, failures, cooldown)
			}
			onChange()
		},
		OnClose: func(cooldown time.Duration) {
			log.Info("switchyard sdk: circuit breaker closed", "layer", layer.String(), "cooldown", cooldown)
			if user.OnClose != nil {
				user.OnClose(layer, cooldown)
			}
			onChange()
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s breaker: %w", ErrInvalidOptions, layer, err)
	}
	return &layerBreaker{layer: layer, b: b}, nil
}

// call runs fn through the breaker; an open breaker returns at once with an error
// wrapping breaker.ErrOpen.
func call[T any](ctx context.Context, lb *layerBreaker, fn func(context.Context) (T, error)) (T, error) {
	var out T
	_, err := lb.b.Do(ctx, func(ctx context.Context) (struct{}, error) {
		v, err := fn(ctx)
		out = v
		return struct{}{}, err
	})
	return out, err
}

func (lb *layerBreaker) state() BreakerState {
	if lb == nil {
		return BreakerDisabled
	}
	switch lb.b.State() {
	case breaker.Open:
		return BreakerOpen
	case breaker.HalfOpen:
		return BreakerHalfOpen
	default:
		return BreakerClosed
	}
}
