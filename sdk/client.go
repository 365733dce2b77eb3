package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
	"github.com/switchyardhq/switchyard/sdk/internal/memcache"
)

// maxIdleConnsPerHost keeps connections to the server open under concurrency (net/http
// keeps 2 by default, and would open and close connections under load).
const maxIdleConnsPerHost = 64

// Client evaluates flags through the layers: memory cache, Redis, the primary (OFREP),
// the secondary store, the last good snapshot, then the caller's default. It is safe for
// concurrent use; Close it when done.
type Client struct {
	opts Options
	log  *slog.Logger

	ofrep     *ofrephttp.Client
	memory    *memcache.Cache[answer] // nil when disabled
	redis     *redisLayer             // nil when not configured
	primary   *primaryLayer
	secondary *secondaryLayer // nil when not configured

	snap        atomic.Pointer[snapshot] // the last good snapshot, nil until one is loaded
	syncHealthy atomic.Bool              // the last snapshot fetch from the server succeeded
	syncTried   atomic.Bool              // a first snapshot was fetched or read, or could not be
	firstSync   chan struct{}            // closed when syncTried becomes true
	gen         atomic.Pointer[string]   // Redis key generation: the snapshot's ETag, or "0"
	refetch     chan struct{}            // change notifications for the sync loop (cap 1)

	flights   singleflight.Group
	served    [numSources]atomic.Uint64
	syncStats syncCounters
	events    *notifier

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// New returns a Client, or an error wrapping ErrInvalidOptions that names every bad
// option. It opens no connection: layers that are down at start are found out (and
// skipped) by their breakers. With Sync on, it starts fetching the snapshot in the
// background; WaitReady waits for that.
func New(opts Options) (*Client, error) {
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	c := &Client{opts: o, log: o.Logger, refetch: make(chan struct{}, 1), firstSync: make(chan struct{})}
	zero := "0"
	c.gen.Store(&zero)
	c.events = newNotifier(c.State)

	if c.ofrep, err = newOFREPClient(o); err != nil {
		return nil, err
	}
	if !o.Cache.Disabled {
		c.memory = memcache.New[answer](o.Cache.MaxEntries, o.Cache.TTL, o.Cache.MaxStale, nil)
	}
	primaryBr, err := newLayerBreaker(SourcePrimary, o.Primary, c.log, o, c.events.poke)
	if err != nil {
		return nil, err
	}
	c.primary = &primaryLayer{client: c.ofrep, br: primaryBr}
	if o.Redis.Client != nil || o.Redis.URL != "" {
		br, err := newLayerBreaker(SourceRedis, o.Redis.Breaker, c.log, o, c.events.poke)
		if err != nil {
			return nil, err
		}
		if c.redis, err = newRedisLayer(o.Redis, br, c.log); err != nil {
			return nil, err
		}
	}
	if o.Secondary.PostgresDSN != "" {
		br, err := newLayerBreaker(SourceSecondary, o.Secondary.Breaker, c.log, o, c.events.poke)
		if err != nil {
			c.closeLayers()
			return nil, err
		}
		if c.secondary, err = newSecondaryLayer(o.Secondary, br); err != nil {
			c.closeLayers()
			return nil, err
		}
	}

	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Go(func() { c.events.run(c.ctx) })
	if o.Sync.Enabled {
		c.wg.Go(func() { c.runSync(c.ctx) })
		if !o.Sync.DisableStream {
			c.wg.Go(func() { c.runStream(c.ctx) })
		}
	}
	return c, nil
}

func newOFREPClient(o Options) (*ofrephttp.Client, error) {
	hc := o.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		hc = &http.Client{Transport: t}
	}
	opts := []ofrephttp.Option{ofrephttp.WithHTTPClient(hc)}
	for _, name := range slices.Sorted(maps.Keys(o.Headers)) {
		opts = append(opts, ofrephttp.WithHeader(name, o.Headers[name]))
	}
	c, err := ofrephttp.New(o.BaseURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	return c, nil
}

// Close stops the background work and closes the connections the Client opened. An
// evaluation after Close returns the caller's default.
func (c *Client) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.cancel()
	c.wg.Wait()
	return c.closeLayers()
}

func (c *Client) closeLayers() error {
	var errs []error
	if c.redis != nil {
		if err := c.redis.close(); err != nil {
			errs = append(errs, fmt.Errorf("close redis: %w", err))
		}
	}
	if c.secondary != nil {
		c.secondary.close()
	}
	return errors.Join(errs...)
}

// WaitReady waits until the Client can answer from the server: with Sync, until the
// first snapshot was fetched (or, when the server cannot be reached, read from
// SnapshotFile or BootstrapFile: then it returns nil with State STALE); without Sync, it
// asks the primary once (a bulk evaluation with an empty context). It returns an error
// when ctx ends first, or when no layer but the caches and defaults can answer.
func (c *Client) WaitReady(ctx context.Context) error {
	if !c.opts.Sync.Enabled {
		_, err := call(ctx, c.primary.br, func(ctx context.Context) (ofrephttp.BulkResult, error) {
			return c.ofrep.EvaluateFlags(ctx, nil, "")
		})
		if err != nil && c.State() == StateError {
			return fmt.Errorf("switchyard sdk: primary: %w", err)
		}
		if err != nil && c.secondary == nil {
			return fmt.Errorf("switchyard sdk: primary: %w (and no secondary store is configured)", err)
		}
		return nil
	}
	select {
	case <-c.firstSync:
	case <-ctx.Done():
		return fmt.Errorf("switchyard sdk: waiting for the first snapshot: %w", ctx.Err())
	}
	if c.State() == StateError || c.snap.Load() == nil {
		return errors.New("switchyard sdk: no snapshot: the server cannot be reached and no snapshot or bootstrap file could be read")
	}
	return nil
}

// State reports the Client's health now.
func (c *Client) State() State {
	if c.opts.Sync.Enabled && !c.syncTried.Load() {
		return StateNotReady
	}
	primaryUp := c.primary.br.state() != BreakerOpen
	if primaryUp && (!c.opts.Sync.Enabled || c.syncHealthy.Load()) {
		return StateReady
	}
	if c.snap.Load() != nil || (c.secondary != nil && c.secondary.br.state() != BreakerOpen) {
		return StateStale
	}
	return StateError
}

// Subscribe calls fn, on a goroutine of the Client's, for every Event until the
// returned function is called. fn must not block for long.
func (c *Client) Subscribe(fn func(Event)) (unsubscribe func()) { return c.events.subscribe(fn) }

// Stats is a view of the Client's work since New.
type Stats struct {
	// Served counts the evaluations each layer answered.
	Served map[Source]uint64
	// Breakers is each remote layer's breaker state.
	Breakers map[Source]BreakerState
	State    State
	// SnapshotETag is the ETag of the snapshot held; empty without one (or when it was
	// read from a file).
	SnapshotETag string
	// SnapshotFetches counts snapshot requests by outcome: "changed" (200 with a new
	// ETag), "unchanged" (200 or 304 with the ETag held), "failed".
	SnapshotFetches map[string]uint64
	// StreamConnects counts the change stream's connection attempts, ChangeEvents the change
	// notifications received.
	StreamConnects, ChangeEvents uint64
}

// syncCounters feed Stats.
type syncCounters struct {
	changed, unchanged, failed, connects, events atomic.Uint64
}

// Stats returns counters and states for logs and metrics.
func (c *Client) Stats() Stats {
	s := Stats{Served: map[Source]uint64{}, Breakers: map[Source]BreakerState{}, State: c.State()}
	for i := range c.served {
		s.Served[Source(i)] = c.served[i].Load()
	}
	for _, layer := range remoteLayers {
		s.Breakers[layer] = c.BreakerState(layer)
	}
	if snap := c.snap.Load(); snap != nil {
		s.SnapshotETag = snap.etag
	}
	s.SnapshotFetches = map[string]uint64{
		"changed": c.syncStats.changed.Load(), "unchanged": c.syncStats.unchanged.Load(), "failed": c.syncStats.failed.Load(),
	}
	s.StreamConnects, s.ChangeEvents = c.syncStats.connects.Load(), c.syncStats.events.Load()
	return s
}

// BreakerState reports the breaker state of a remote layer (SourceRedis, SourcePrimary
// or SourceSecondary); BreakerDisabled for a layer that is not configured.
func (c *Client) BreakerState(layer Source) BreakerState {
	switch layer {
	case SourcePrimary:
		return c.primary.br.state()
	case SourceRedis:
		if c.redis != nil {
			return c.redis.br.state()
		}
	case SourceSecondary:
		if c.secondary != nil {
			return c.secondary.br.state()
		}
	}
	return BreakerDisabled
}

// Options returns the options in force: what New was given with every default filled in.
func (c *Client) Options() Options { return c.opts }
