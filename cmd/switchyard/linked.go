package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/platform/bus"
)

// The modules a binary links are chosen by build tags in the link_*.go files:
// no tag links every module (the monolith), `-tags command` the flags and audit
// modules, `-tags read` the evaluation module. serve.go only sees these shapes, so a
// binary's dependency graph holds exactly the modules it links.

// readModule is the evaluation module as the composition root uses it.
type readModule interface {
	Handlers() []bus.Handler
	Routes(g *echo.Group)
	Start(ctx context.Context) error
	Ready() error
	Follow(ctx context.Context, every time.Duration) error
	// CloseStreams ends every open change-notification stream (SSE), which
	// http.Server.Shutdown would otherwise wait for.
	CloseStreams()
}

// consumerModule is a module that consumes events and serves an API (audit).
type consumerModule interface {
	Handlers() []bus.Handler
	Routes(g *echo.Group)
}

// commandModule is the flags module as the composition root uses it.
type commandModule interface {
	Routes(g *echo.Group)
	SeedIfEmpty(ctx context.Context, env string, flagFile []byte, actor, reason string) (int, error)
}

// moduleDeps is what every module constructor may draw on.
type moduleDeps struct {
	cfg       config
	logger    *slog.Logger
	adminAuth echo.MiddlewareFunc
	metrics   prometheus.Registerer // the registry GET /metrics serves
}

// linked reports whether this binary links module.
func linked(module string) bool {
	switch module {
	case "flags":
		return flagsLinked
	case "evaluation":
		return evaluationLinked
	case "audit":
		return auditLinked
	}
	return false
}

// linkedNames lists the modules this binary links, for logs and errors.
func linkedNames() []string {
	var names []string
	for _, m := range []string{"flags", "evaluation", "audit"} {
		if linked(m) {
			names = append(names, m)
		}
	}
	return names
}

// dispatcher takes a committed event to its consumers (outbox.Dispatcher).
type dispatcher interface {
	Hold() time.Duration
	AfterCommit(ctx context.Context, eventID string) error
}
