package ofrep

import (
	"context"
	"sync"
	"time"
)

// catchUp runs a replica's catch-up with its store for refetches that name a newer
// configuration than the replica holds: one run at a time (concurrent callers wait for
// the run in progress), and no new run within minGap of the last, so that a flood of
// such requests (or forged ones naming a revision that never comes) costs the store at
// most a few reads a second.
type catchUp struct {
	fn      func(context.Context) error
	minGap  time.Duration
	timeout time.Duration

	mu      sync.Mutex
	running chan struct{} // closed when the run in progress ends; nil when none runs
	last    time.Time     // when the last run ended
}

// wait returns once a run started now or in progress has ended, at once when a run ended
// within minGap, or when ctx ends.
func (c *catchUp) wait(ctx context.Context) {
	if c.fn == nil {
		return
	}
	c.mu.Lock()
	if ch := c.running; ch != nil {
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		return
	}
	if time.Since(c.last) < c.minGap {
		c.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	c.running = ch
	c.mu.Unlock()

	// Not the request's context: the run serves every request waiting on it.
	runCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	_ = c.fn(runCtx) // a failure leaves the snapshot behind: the caller answers 503
	cancel()

	c.mu.Lock()
	c.running = nil
	c.last = time.Now()
	c.mu.Unlock()
	close(ch)
}
