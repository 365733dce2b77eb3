package sdk

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyardhq/switchyard/platform/breaker"
)

// Defaults of Options. A zero field takes its default.
const (
	DefaultCacheTTL        = 30 * time.Second
	DefaultCacheMaxEntries = 10_000
	DefaultCacheMaxStale   = 24 * time.Hour

	DefaultRedisKeyPrefix   = "switchyard:sdk:"
	DefaultRedisTTL         = 60 * time.Second
	DefaultRedisCallTimeout = 1 * time.Second

	DefaultPrimaryCallTimeout   = 5 * time.Second
	DefaultSecondaryCallTimeout = 2 * time.Second
	DefaultEnvironment          = "development"
	DefaultSchema               = "evaluation"

	DefaultPollInterval   = 30 * time.Second
	DefaultCoalesceWindow = 250 * time.Millisecond
	DefaultReconnectMin   = 1 * time.Second
	DefaultReconnectMax   = 30 * time.Second

	// The breaker defaults (every remote layer) are those of platform/breaker:
	// trip after 4 consecutive counted failures, 15 s cooldown doubling on each failed
	// probe up to 60 s, 1 half-open probe.
	DefaultTripAfter      = breaker.DefaultTripAfter
	DefaultCooldown       = breaker.DefaultCooldown
	DefaultMaxCooldown    = breaker.DefaultMaxCooldown
	DefaultHalfOpenProbes = breaker.DefaultHalfOpenProbes
)

// ErrInvalidOptions is wrapped by every error New returns for bad Options.
var ErrInvalidOptions = errors.New("invalid sdk options")

// Options configures a Client. Every field is optional except BaseURL; the zero value of
// a field takes the default its comment names.
type Options struct {
	// BaseURL is Switchyard's read API, e.g. "http://switchyard-read:8080" (required):
	// the primary layer (OFREP), the definitions snapshot and the change stream.
	BaseURL string
	// Headers are sent with every request to BaseURL (an Authorization header, say).
	Headers map[string]string
	// HTTPClient carries every request to BaseURL. Default: a client with no overall
	// timeout (each call is bounded by its layer's CallTimeout, and the change stream
	// must stay open) and up to 64 idle connections to the server.
	HTTPClient *http.Client
	// Logger receives the SDK's logs (breaker trips and closes, sync failures).
	// Default: slog.Default().
	Logger *slog.Logger

	// Cache is the in-process memory cache, the first layer.
	Cache CacheOptions
	// Redis is the optional shared cache, the second layer: off unless Client or URL is set.
	Redis RedisOptions
	// Primary is the breaker in front of the OFREP API (CallTimeout default 5 s).
	Primary BreakerOptions
	// Secondary is the optional read-only PostgreSQL store, the fourth layer.
	Secondary SecondaryOptions
	// Sync keeps a snapshot of the flag definitions current and reacts to the server's
	// change notifications. Off unless Sync.Enabled or LocalEvaluation is set.
	Sync SyncOptions
	// LocalEvaluation evaluates every flag in-process from the synced snapshot, with the
	// server's engine: no network on the evaluation path. It turns Sync on.
	LocalEvaluation bool

	// OnTrip is called when a layer's breaker opens: the error that tripped it, the
	// consecutive counted failures, and the cooldown now in force. Keep it short.
	OnTrip func(layer Source, err error, failures uint32, cooldown time.Duration)
	// OnClose is called when a layer's breaker closes again, with the cooldown of the
	// open period that just ended.
	OnClose func(layer Source, cooldown time.Duration)
}

// CacheOptions configures the memory cache.
type CacheOptions struct {
	// Disabled turns the memory cache off (every evaluation goes to the next layer).
	Disabled bool
	// TTL is how long an answer is served from memory, reason CACHED. Default 30 s. A
	// change notification expires every entry at once.
	TTL time.Duration
	// MaxEntries bounds the cache (least recently used entries go first). Default 10,000.
	MaxEntries int
	// MaxStale is how long after its TTL an answer may still be served, reason STALE,
	// when no remote layer answers (stale-if-error). Default 24 h.
	MaxStale time.Duration
}

// RedisOptions configures the shared cache. Set Client or URL, not both.
type RedisOptions struct {
	// Client is the application's go-redis client; the SDK does not close it. Give it
	// ContextTimeoutEnabled: true, or go-redis ignores the breaker's CallTimeout and a
	// stalled Redis holds each call for the client's own Read/WriteTimeout.
	Client redis.UniversalClient
	// URL ("redis://[:password@]host:6379/0") makes the SDK open (and close) its own client.
	URL string
	// KeyPrefix starts every key the SDK writes. Default "switchyard:sdk:".
	KeyPrefix string
	// TTL is how long an answer lives in Redis. Default 60 s.
	TTL time.Duration
	// Breaker guards Redis. CallTimeout default 1 s.
	Breaker BreakerOptions
}

// SecondaryOptions configures the read-only PostgreSQL layer.
type SecondaryOptions struct {
	// PostgresDSN connects to the evaluation module's database as a read-only role (see
	// the README). Empty: no secondary store (the last-good snapshot still answers when
	// Sync is on).
	PostgresDSN string
	// Schema holds the evaluation module's tables. Default "evaluation".
	Schema string
	// Environment is the environment evaluated, the server's default. Default "development".
	Environment string
	// Breaker guards the store. CallTimeout default 2 s.
	Breaker BreakerOptions
}

// SyncOptions configures the definitions snapshot and the change stream.
type SyncOptions struct {
	// Enabled keeps a snapshot current: fetched at start, refetched with If-None-Match
	// every PollInterval and on every change notification. The snapshot is the
	// fallback below the secondary store (reason STALE), or the only source with
	// LocalEvaluation. A change notification also expires the caches.
	Enabled bool
	// PollInterval is the time between two conditional fetches. Default 30 s.
	PollInterval time.Duration
	// DisableStream turns the change stream (SSE) off: changes are seen at the next poll.
	DisableStream bool
	// CoalesceWindow gathers change notifications arriving close together into one
	// refetch. Default 250 ms.
	CoalesceWindow time.Duration
	// ReconnectMin and ReconnectMax bound the jittered, doubling delay before the
	// stream reconnects. Defaults 1 s and 30 s.
	ReconnectMin, ReconnectMax time.Duration
	// SnapshotFile is where the last good snapshot is written (atomically) and read back
	// at start when the server cannot be reached. Empty: kept in memory only.
	SnapshotFile string
	// BootstrapFile is a snapshot (the server's /sdk/v1/flags.json format, or a flagd
	// flag file with an "environment" and "revision") to start from when neither the
	// server nor SnapshotFile can give one.
	BootstrapFile string
}

// BreakerOptions configures one layer's circuit breaker (github.com/sony/gobreaker/v2
// through platform/breaker). Zero fields take the defaults.
type BreakerOptions struct {
	// CallTimeout bounds each call to the layer. Default per layer: Redis 1 s, primary
	// 5 s, secondary 2 s.
	CallTimeout time.Duration
	// TripAfter is the number of consecutive counted failures that opens the breaker. Default 4.
	TripAfter uint32
	// Cooldown is how long the breaker stays open before it lets a probe through. Default 15 s.
	Cooldown time.Duration
	// MaxCooldown caps the cooldown, which doubles each time a probe fails. Default 60 s
	// (or Cooldown when that is longer).
	MaxCooldown time.Duration
	// HalfOpenProbes is the number of calls let through after the cooldown; all must
	// succeed to close the breaker. Default 1.
	HalfOpenProbes uint32
	// Counts decides which errors count as failures. Default DefaultCounts: timeouts,
	// connection errors, 5xx and 429 count; 4xx, bad input and FLAG_NOT_FOUND never do.
	Counts func(err error) bool
}

// resolved returns o with its defaults filled in, or an error naming every bad field.
func (o Options) resolved() (Options, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if strings.TrimSpace(o.BaseURL) == "" {
		bad("BaseURL is required")
	} else if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("BaseURL %q must be an absolute http or https URL", o.BaseURL)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}

	c := &o.Cache
	nonNegative(bad, "Cache.TTL", c.TTL)
	nonNegative(bad, "Cache.MaxStale", c.MaxStale)
	if c.MaxEntries < 0 {
		bad("Cache.MaxEntries must not be negative, got %d", c.MaxEntries)
	}
	c.TTL = or(c.TTL, DefaultCacheTTL)
	c.MaxStale = or(c.MaxStale, DefaultCacheMaxStale)
	c.MaxEntries = or(c.MaxEntries, DefaultCacheMaxEntries)

	r := &o.Redis
	if r.Client != nil && r.URL != "" {
		bad("Redis: set Client or URL, not both")
	}
	if r.URL != "" {
		if _, err := redis.ParseURL(r.URL); err != nil {
			bad("Redis.URL: %v", err)
		}
	}
	nonNegative(bad, "Redis.TTL", r.TTL)
	r.TTL = or(r.TTL, DefaultRedisTTL)
	r.KeyPrefix = or(r.KeyPrefix, DefaultRedisKeyPrefix)
	r.Breaker = r.Breaker.resolved(bad, "Redis.Breaker", DefaultRedisCallTimeout)
	o.Primary = o.Primary.resolved(bad, "Primary", DefaultPrimaryCallTimeout)

	s := &o.Secondary
	s.Schema = or(s.Schema, DefaultSchema)
	s.Environment = or(s.Environment, DefaultEnvironment)
	s.Breaker = s.Breaker.resolved(bad, "Secondary.Breaker", DefaultSecondaryCallTimeout)

	y := &o.Sync
	if o.LocalEvaluation {
		y.Enabled = true
	}
	nonNegative(bad, "Sync.PollInterval", y.PollInterval)
	nonNegative(bad, "Sync.CoalesceWindow", y.CoalesceWindow)
	nonNegative(bad, "Sync.ReconnectMin", y.ReconnectMin)
	nonNegative(bad, "Sync.ReconnectMax", y.ReconnectMax)
	y.PollInterval = or(y.PollInterval, DefaultPollInterval)
	y.CoalesceWindow = or(y.CoalesceWindow, DefaultCoalesceWindow)
	y.ReconnectMin = or(y.ReconnectMin, DefaultReconnectMin)
	y.ReconnectMax = or(y.ReconnectMax, max(DefaultReconnectMax, y.ReconnectMin))
	if y.ReconnectMax < y.ReconnectMin {
		bad("Sync.ReconnectMax %s is below Sync.ReconnectMin %s", y.ReconnectMax, y.ReconnectMin)
	}
	if !y.Enabled && (y.SnapshotFile != "" || y.BootstrapFile != "") {
		bad("Sync.SnapshotFile and Sync.BootstrapFile need Sync.Enabled or LocalEvaluation")
	}

	if len(problems) > 0 {
		return Options{}, fmt.Errorf("%w: %s", ErrInvalidOptions, strings.Join(problems, "; "))
	}
	return o, nil
}

// resolved fills in the breaker defaults. platform/breaker validates the result again
// when the breaker is built.
func (b BreakerOptions) resolved(bad func(string, ...any), field string, callTimeout time.Duration) BreakerOptions {
	nonNegative(bad, field+".CallTimeout", b.CallTimeout)
	nonNegative(bad, field+".Cooldown", b.Cooldown)
	nonNegative(bad, field+".MaxCooldown", b.MaxCooldown)
	b.CallTimeout = or(b.CallTimeout, callTimeout)
	b.TripAfter = or(b.TripAfter, DefaultTripAfter)
	b.Cooldown = or(b.Cooldown, DefaultCooldown)
	b.MaxCooldown = or(b.MaxCooldown, max(DefaultMaxCooldown, b.Cooldown))
	b.HalfOpenProbes = or(b.HalfOpenProbes, DefaultHalfOpenProbes)
	if b.MaxCooldown < b.Cooldown {
		bad("%s.MaxCooldown %s is below %s.Cooldown %s", field, b.MaxCooldown, field, b.Cooldown)
	}
	if b.Counts == nil {
		b.Counts = DefaultCounts
	}
	return b
}

func nonNegative(bad func(string, ...any), field string, d time.Duration) {
	if d < 0 {
		bad("%s must not be negative, got %s", field, d)
	}
}

// or returns v, or def when v is the zero value.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
