package ofrep

import (
	"context"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxStreams  = 1000
	DefaultHeartbeat   = 15 * time.Second
	DefaultMinInterval = 250 * time.Millisecond
	DefaultRetry       = 2 * time.Second
	// streamWriteTimeout bounds one write to a stream: a client that does not read for
	// that long is dropped (it reconnects and refetches), never buffered for.
	streamWriteTimeout = 10 * time.Second
	// catchUpMinGap and catchUpTimeout bound how often, and for how long, refetches
	// naming a newer configuration make a replica read its store.
	catchUpMinGap  = 200 * time.Millisecond
	catchUpTimeout = 2 * time.Second
)

// Options tune the change notifications. The zero value takes every default.
type Options struct {
	// MaxStreams bounds the event streams open at once; one more is refused with a 503.
	MaxStreams int
	// Heartbeat is how often an idle stream gets a comment line, so that proxies and
	// clients see it alive.
	Heartbeat time.Duration
	// MinInterval is the least time between two change events on one stream: the first
	// change is sent at once, the changes that follow within MinInterval become one event
	// carrying the latest configuration.
	MinInterval time.Duration
	// Retry is the reconnection delay the stream asks clients for (SSE retry:).
	Retry time.Duration
	// CatchUp brings the snapshots up to date with the store (a replica sharing a store
	// with others); nil when the snapshots cannot be behind it.
	CatchUp func(context.Context) error
	// Observe, when set, is told the reason and error code ("" on success) of every flag
	// evaluation answered; it runs on the request path.
	Observe func(reason, errorCode string)
}

func (o Options) withDefaults() Options {
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.MinInterval <= 0 {
		o.MinInterval = DefaultMinInterval
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	return o
}
