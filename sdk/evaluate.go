package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// Boolean evaluates a boolean flag. It never fails: see Result.
func (c *Client) Boolean(ctx context.Context, key string, defaultValue bool, evalCtx map[string]any) Result[bool] {
	return result(c.resolve(ctx, key, evalCtx), defaultValue, toBool)
}

// String evaluates a string flag.
func (c *Client) String(ctx context.Context, key string, defaultValue string, evalCtx map[string]any) Result[string] {
	return result(c.resolve(ctx, key, evalCtx), defaultValue, toString)
}

// Float evaluates a number flag.
func (c *Client) Float(ctx context.Context, key string, defaultValue float64, evalCtx map[string]any) Result[float64] {
	return result(c.resolve(ctx, key, evalCtx), defaultValue, toFloat)
}

// Int evaluates a number flag whose value is an integer (TYPE_MISMATCH otherwise).
func (c *Client) Int(ctx context.Context, key string, defaultValue int64, evalCtx map[string]any) Result[int64] {
	return result(c.resolve(ctx, key, evalCtx), defaultValue, toInt)
}

// Object evaluates a flag whose value is a JSON object or array. The value is decoded
// for each call: the caller may modify it.
func (c *Client) Object(ctx context.Context, key string, defaultValue any, evalCtx map[string]any) Result[any] {
	return result(c.resolve(ctx, key, evalCtx), defaultValue, toObject)
}

// resolve finds the answer for key in evalCtx, layer after layer, and counts who gave it.
func (c *Client) resolve(ctx context.Context, key string, evalCtx map[string]any) answer {
	a := c.resolveLayers(ctx, key, evalCtx)
	c.served[a.source].Add(1)
	return a
}

func (c *Client) resolveLayers(ctx context.Context, key string, evalCtx map[string]any) answer {
	if c.closed.Load() {
		return failed(SourceDefault, ofrepv1.ErrorGeneral, "the switchyard client is closed")
	}
	if c.opts.LocalEvaluation {
		if s := c.snap.Load(); s != nil {
			a := s.evaluate(key, evalCtx, SourceLocal)
			if !c.syncHealthy.Load() {
				a.served = stale
			}
			return a
		}
	}
	ck, err := cacheKey(key, evalCtx)
	if err != nil {
		return failed(SourceDefault, ofrepv1.ErrorInvalidContext, err.Error())
	}
	if c.memory != nil {
		if a, ok := c.memory.Get(ck); ok {
			a.source, a.served = SourceMemory, cached
			return a
		}
	}
	// Concurrent misses for one key share one trip down the layers. The trip runs on
	// the Client's context, bounded by each layer's CallTimeout, so that one caller
	// giving up does not fail the others; each caller waits as long as its ctx allows.
	ch := c.flights.DoChan(ck, func() (any, error) {
		return c.fetch(c.ctx, key, evalCtx, ck), nil
	})
	select {
	case r := <-ch:
		return r.Val.(answer)
	case <-ctx.Done():
		return c.lastResort(ck, fmt.Errorf("gave up waiting: %w", ctx.Err()))
	}
}

// fetch asks the remote layers in order, then the last good snapshot, then the memory
// cache's expired entry.
func (c *Client) fetch(ctx context.Context, key string, evalCtx map[string]any, ck string) answer {
	gen := *c.gen.Load()
	var errs []error
	if c.redis != nil {
		a, found, err := c.redis.get(ctx, gen, ck)
		if err != nil {
			errs = append(errs, err)
		} else if found {
			c.remember(ck, a)
			a.served = cached
			return a
		}
	}
	a, err := c.primary.evaluate(ctx, key, evalCtx)
	if err == nil {
		c.remember(ck, a)
		if c.redis != nil {
			c.redis.setAsync(ctx, gen, ck, key, a)
		}
		return a
	}
	errs = append(errs, err)
	if c.secondary != nil {
		a, err := c.secondary.evaluate(ctx, key, evalCtx)
		if err == nil {
			c.remember(ck, a)
			return a
		}
		errs = append(errs, err)
	}
	if s := c.snap.Load(); s != nil {
		a := s.evaluate(key, evalCtx, SourceSnapshot)
		a.served = stale
		return a
	}
	return c.lastResort(ck, errors.Join(errs...))
}

func (c *Client) remember(ck string, a answer) {
	if c.memory != nil {
		c.memory.Set(ck, a)
	}
}

// lastResort serves the memory cache's expired entry (STALE) or the caller's default.
func (c *Client) lastResort(ck string, why error) answer {
	if c.memory != nil {
		if a, _, ok := c.memory.GetStale(ck); ok {
			a.source, a.served = SourceMemory, stale
			return a
		}
	}
	msg := "no layer answered"
	if why != nil {
		msg += ": " + strings.ReplaceAll(why.Error(), "\n", "; ")
	}
	return failed(SourceDefault, ofrepv1.ErrorGeneral, msg)
}
