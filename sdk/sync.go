package sdk

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
)

// runSync keeps the snapshot current: a first fetch (or, failing that, the snapshot or
// bootstrap file), then a conditional fetch every PollInterval and after every change
// notification or loss of the change stream (see runStream), coalesced over
// CoalesceWindow. After a failed fetch the next one comes sooner: a jittered delay
// doubling from ReconnectMin, up to ReconnectMax or PollInterval, whichever is shorter.
func (c *Client) runSync(ctx context.Context) {
	err := c.fetchSnapshot(ctx)
	if err != nil && ctx.Err() == nil {
		c.loadFallbackSnapshot()
	}
	c.syncTried.Store(true)
	close(c.firstSync)
	c.events.poke()

	retry := c.opts.Sync.ReconnectMin
	next := time.NewTimer(c.nextFetch(err, &retry))
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-next.C:
		case <-c.refetch:
			// Let a burst of notifications arrive, then fetch once.
			select {
			case <-ctx.Done():
				return
			case <-time.After(c.opts.Sync.CoalesceWindow):
			}
			select {
			case <-c.refetch:
			default:
			}
		}
		err = c.fetchSnapshot(ctx)
		next.Reset(c.nextFetch(err, &retry))
	}
}

// nextFetch is the delay before the next fetch after one that ended with err.
func (c *Client) nextFetch(err error, retry *time.Duration) time.Duration {
	if err == nil {
		*retry = c.opts.Sync.ReconnectMin
		return c.opts.Sync.PollInterval
	}
	limit := min(c.opts.Sync.ReconnectMax, c.opts.Sync.PollInterval)
	d := jitter(min(*retry, limit))
	*retry = min(*retry*2, limit)
	return d
}

// fetchSnapshot asks the server for the snapshot (If-None-Match the one held) through
// the primary's breaker and installs a new one.
func (c *Client) fetchSnapshot(ctx context.Context) error {
	held := c.snap.Load()
	etag := ""
	if held != nil {
		etag = held.etag
	}
	res, err := call(ctx, c.primary.br, func(ctx context.Context) (ofrephttp.SnapshotResult, error) {
		return c.ofrep.FetchSnapshot(ctx, etag)
	})
	if err != nil {
		switch {
		case ctx.Err() != nil:
		case c.syncHealthy.Load() || !c.syncTried.Load():
			c.log.Warn("switchyard sdk: snapshot fetch failed; serving the snapshot held", "error", err)
		default:
			c.log.Debug("switchyard sdk: snapshot fetch failed again", "error", err)
		}
		c.syncStats.failed.Add(1)
		c.setSyncHealthy(false)
		return fmt.Errorf("fetch snapshot: %w", err)
	}
	if res.NotModified || (held != nil && held.etag == res.ETag) {
		c.syncStats.unchanged.Add(1)
	} else {
		c.syncStats.changed.Add(1)
	}
	if !res.NotModified {
		c.install(compileSnapshot(res.Snapshot, res.ETag, "server", res.Body), held)
	}
	c.setSyncHealthy(true)
	return nil
}

// install makes s the snapshot held. When the flags changed (a new ETag), the caches
// expire, Redis moves to keys of the new generation, and subscribers hear of it.
func (c *Client) install(s *snapshot, held *snapshot) {
	c.snap.Store(s)
	if path := c.opts.Sync.SnapshotFile; path != "" && len(s.body) > 0 {
		if err := writeSnapshotFile(path, s.body); err != nil {
			c.log.Warn("switchyard sdk: cannot persist the snapshot", "path", path, "error", err)
		}
	}
	if held != nil && held.etag == s.etag {
		return
	}
	gen := s.etag
	c.gen.Store(&gen)
	if c.memory != nil {
		c.memory.Invalidate()
	}
	if held != nil {
		c.log.Info("switchyard sdk: flags changed", "etag", s.etag, "revision", s.revision)
		c.events.flagsChanged(s.etag, fmt.Sprintf("flags changed: revision %d", s.revision))
	}
}

func (c *Client) setSyncHealthy(ok bool) {
	if c.syncHealthy.Swap(ok) != ok {
		c.events.poke()
	}
}

// loadFallbackSnapshot starts from SnapshotFile, else BootstrapFile, when the server
// could not give the first snapshot.
func (c *Client) loadFallbackSnapshot() {
	for _, f := range []struct{ path, origin string }{
		{c.opts.Sync.SnapshotFile, "snapshot file"},
		{c.opts.Sync.BootstrapFile, "bootstrap file"},
	} {
		if f.path == "" {
			continue
		}
		s, err := readSnapshotFile(f.path, f.origin)
		if err != nil {
			c.log.Warn("switchyard sdk: cannot start from the "+f.origin, "path", f.path, "error", err)
			continue
		}
		c.log.Warn("switchyard sdk: the server cannot be reached; starting from the "+f.origin,
			"path", f.path, "revision", s.revision)
		c.snap.Store(s)
		return
	}
}

// runStream listens to the server's change notifications and asks the sync loop for a
// refetch when one names a snapshot other than the one held. When the stream ends it
// reconnects after a jittered delay that doubles from ReconnectMin to ReconnectMax (or
// the server's retry hint, when longer), and starts from ReconnectMin again once a
// connection delivered an event.
//
// A stream that ends, or cannot connect, while the last snapshot fetch succeeded also
// asks for a refetch: without the stream no change can reach the client, and the
// server may be gone. If it is, the fetch fails and the client is STALE (not only for
// the primary breaker's cooldown, should an evaluation have tripped it) until a fetch
// succeeds again; the sync loop retries failed fetches on its own backoff, so a stream
// that keeps failing asks no more until then.
func (c *Client) runStream(ctx context.Context) {
	url, err := c.ofrep.StreamURL(ofrepv1.EventStream{Type: ofrepv1.EventStreamTypeSSE,
		Endpoint: &ofrepv1.EventStreamEndpoint{RequestURI: ofrepv1.PathEventStream}})
	if err != nil {
		c.log.Error("switchyard sdk: no change stream", "error", err)
		return
	}
	delay := c.opts.Sync.ReconnectMin
	for {
		c.syncStats.connects.Add(1)
		err := c.ofrep.Watch(ctx, url, c.onChange)
		if ctx.Err() != nil {
			return
		}
		hint := time.Duration(0)
		if se, ok := errors.AsType[*ofrephttp.StreamEndedError](err); ok {
			hint = se.Retry
			if se.Events > 0 {
				delay = c.opts.Sync.ReconnectMin
			}
		} else if he, ok := errors.AsType[*ofrephttp.HTTPError](err); ok {
			hint = he.RetryAfter
		}
		if c.syncHealthy.Load() {
			c.requestRefetch()
		}
		wait := jitter(max(delay, hint))
		c.log.Debug("switchyard sdk: change stream ended; reconnecting", "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		delay = min(delay*2, c.opts.Sync.ReconnectMax)
	}
}

func (c *Client) onChange(ev ofrepv1.ChangeEvent) {
	c.syncStats.events.Add(1)
	c.log.Debug("switchyard sdk: change notification", "etag", ev.ETag)
	if s := c.snap.Load(); s != nil && s.etag != "" && s.etag == ev.ETag {
		return
	}
	c.requestRefetch()
}

// requestRefetch asks the sync loop for a snapshot fetch.
func (c *Client) requestRefetch() {
	select {
	case c.refetch <- struct{}{}:
	default: // a refetch is pending already; it will fetch the latest
	}
}

// jitter returns a random duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
