package sdk_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

var errDeadline = context.DeadlineExceeded

func redisClientForOptions(t *testing.T) redis.UniversalClient {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
