package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// maxRedisWrites bounds the writes to Redis in flight: an answer is written in the
// background, and dropped when that many are already on their way (Redis slow or down).
const maxRedisWrites = 32

// redisLayer is the shared cache behind its breaker. Keys are
// <prefix><generation>:<context hash>:<flag key>, where the generation is the etag of
// the last change notification seen (or "0"): after a change, replicas that saw it read
// and write new keys, and the old ones expire with their TTL.
type redisLayer struct {
	client redis.UniversalClient
	owned  bool // opened from Options.Redis.URL, closed with the Client
	prefix string
	ttl    time.Duration
	br     *layerBreaker
	log    *slog.Logger
	writes chan struct{} // semaphore of background writes
}

func newRedisLayer(o RedisOptions, br *layerBreaker, log *slog.Logger) (*redisLayer, error) {
	r := &redisLayer{client: o.Client, prefix: o.KeyPrefix, ttl: o.TTL, br: br, log: log, writes: make(chan struct{}, maxRedisWrites)}
	if o.URL != "" {
		opts, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("%w: Redis.URL: %w", ErrInvalidOptions, err)
		}
		// The breaker bounds each call with its context's deadline, which go-redis
		// ignores unless told; and it must not retry behind the breaker's back.
		opts.ContextTimeoutEnabled = true
		opts.MaxRetries = -1
		opts.DialerRetries = 1
		r.client, r.owned = redis.NewClient(opts), true
	}
	return r, nil
}

func (r *redisLayer) key(gen, ck string) string { return r.prefix + gen + ":" + ck }

// get returns the answer stored under ck; found is false on a miss.
func (r *redisLayer) get(ctx context.Context, gen, ck string) (a answer, found bool, err error) {
	data, err := call(ctx, r.br, func(ctx context.Context) ([]byte, error) {
		data, err := r.client.Get(ctx, r.key(gen, ck)).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil, nil // a miss is an answer, not a failure
		}
		return data, err
	})
	if err != nil {
		return answer{}, false, fmt.Errorf("redis: %w", err)
	}
	if data == nil {
		return answer{}, false, nil
	}
	var ev evaluationRecord
	if err := json.Unmarshal(data, &ev); err != nil {
		r.log.Warn("switchyard sdk: ignoring an undecodable Redis entry", "key", r.key(gen, ck), "error", err)
		return answer{}, false, nil
	}
	a, err = answerOf(ev.Evaluation, SourceRedis)
	if err != nil {
		return answer{}, false, nil
	}
	return a, true, nil
}

// evaluationRecord is what a Redis entry holds.
type evaluationRecord struct {
	Evaluation ofrepv1.Evaluation `json:"e"`
}

// setAsync stores a under ck in the background, unless too many writes are in flight.
func (r *redisLayer) setAsync(ctx context.Context, gen, ck, flagKey string, a answer) {
	data, err := json.Marshal(evaluationRecord{Evaluation: a.evaluation(flagKey)})
	if err != nil {
		return
	}
	select {
	case r.writes <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-r.writes }()
		_, err := call(context.WithoutCancel(ctx), r.br, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, r.client.Set(ctx, r.key(gen, ck), data, r.ttl).Err()
		})
		if err != nil {
			r.log.Debug("switchyard sdk: Redis write failed", "error", err)
		}
	}()
}

// wait waits for the background writes in flight.
func (r *redisLayer) wait() {
	for range cap(r.writes) {
		r.writes <- struct{}{}
	}
	for range cap(r.writes) {
		<-r.writes
	}
}

func (r *redisLayer) close() error {
	r.wait()
	if r.owned {
		return r.client.Close()
	}
	return nil
}
