package bus

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// watermillLogger adapts logger for watermill, which narrates every subscriber start and
// stop at INFO: that is debugging detail here.
func watermillLogger(logger *slog.Logger, attrs ...any) watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(logger.With(append([]any{"component", "bus"}, attrs...)...),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
}

// retryPolicy is how often, and how soon, a router retries a failing handler in process
// before the message goes back (poison queue or broker redelivery).
type retryPolicy struct {
	maxRetries   int
	initial      time.Duration
	closeTimeout time.Duration
}

// newRouter builds the router both asynchronous deliverers run: outer middlewares first
// (the in-process bus's poison queue), then retries of a failing handler, and innermost
// panic recovery, so that a panic is an error that is retried.
func newRouter(wlog watermill.LoggerAdapter, p retryPolicy, outer ...message.HandlerMiddleware) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: p.closeTimeout}, wlog)
	if err != nil {
		return nil, fmt.Errorf("bus: new router: %w", err)
	}
	router.AddMiddleware(outer...)
	router.AddMiddleware(
		middleware.Retry{MaxRetries: p.maxRetries, InitialInterval: p.initial, Multiplier: 2, Logger: wlog}.Middleware,
		middleware.Recoverer,
	)
	return router, nil
}

// routed gives a deliverer the lifecycle of its router.
type routed struct {
	router *message.Router
}

// Run consumes until ctx is done or the deliverer is closed.
func (r routed) Run(ctx context.Context) error {
	if err := r.router.Run(ctx); err != nil {
		return fmt.Errorf("bus: router: %w", err)
	}
	return nil
}

// Running is closed once every handler is subscribed.
func (r routed) Running() <-chan struct{} { return r.router.Running() }
