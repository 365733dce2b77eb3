package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/breaker"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/bus/httppush"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/metrics"
	"github.com/switchyardhq/switchyard/platform/outbox"
)

// serve wires the modules in the order data flows (stores -> consumers -> bus -> relay ->
// command module -> HTTP), starts them, and on ctx's end shuts down in reverse: stop
// accepting requests, drain in-flight ones, stop the relay, drain the bus, close stores.
func serve(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	logger := newLogger(stderr, cfg.LogLevel)
	if err := ensureAdminTokens(&cfg); err != nil {
		return err
	}
	st, _, err := openStores(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("close stores", "err", err)
		}
	}()

	reg, err := metrics.NewRegistry(metrics.ReadBuildInfo(linkedNames()))
	if err != nil {
		return err
	}
	httpMetrics, err := metrics.NewHTTP(reg)
	if err != nil {
		return err
	}
	adminAuth := httpx.RequireBearer(cfg.AdminTokens)
	deps := moduleDeps{cfg: cfg, logger: logger, adminAuth: adminAuth, metrics: reg}
	eval, err := newEvaluation(st.evaluation, deps)
	if err != nil {
		return fmt.Errorf("evaluation module: %w", err)
	}
	aud, err := newAudit(st.audit, deps)
	if err != nil {
		return fmt.Errorf("audit module: %w", err)
	}
	var handlers []bus.Handler
	for _, m := range []interface{ Handlers() []bus.Handler }{eval, aud} {
		if m != nil {
			handlers = append(handlers, m.Handlers()...)
		}
	}
	var relay *outbox.Relay
	if flagsLinked && cfg.Push.URL != "" {
		// A command-only binary in sync mode: the read pods' projection is a remote handler.
		pushMetrics, err := metrics.NewBreaker(reg, pushBreakerName)
		if err != nil {
			return err
		}
		pusher, err := newPusher(cfg.Push, logger, pushMetrics.OnTrip, func() {
			if relay != nil {
				relay.Notify() // the read side answers again: deliver what waited
			}
		})
		if err != nil {
			return err
		}
		pushMetrics.ReportState(pusher.State)
		handlers = append(handlers, pusher.Handler())
	}
	if err := checkDelivery(cfg, handlers); err != nil {
		return err
	}
	eventBus, err := newEventBus(cfg, logger, handlers)
	if err != nil {
		return err
	}
	var fl commandModule
	if flagsLinked {
		relay = outbox.NewRelay(st.flags, eventBus, logger, outbox.RelayOptions{Retention: cfg.OutboxRetention})
		if _, err := metrics.NewOutboxBacklog(reg, "flags", relay.Backlog, metrics.DefaultBacklogTimeout, logger); err != nil {
			return err
		}
		if fl, err = newFlags(st.flags, deps, outbox.NewDispatcher(relay, cfg.Bus == busSync)); err != nil {
			return fmt.Errorf("flags module: %w", err)
		}
	}

	ready := &readiness{}
	e := httpx.NewEcho(logger)
	e.Pre(httpMetrics.Middleware()) // Pre: it sees the router's and the middleware's own answers too
	registerHealth(e, ready, eval)
	registerMetrics(e, reg, cfg.MetricsTokens, logger)
	root := e.Group("")
	if fl != nil {
		fl.Routes(root)
		relay.Routes(root, adminAuth) // the flags module's outbox: GET/POST /api/v1/admin/outbox...
	}
	if eval != nil {
		eval.Routes(root)
		if len(cfg.Push.Tokens) > 0 {
			// A read-only binary in sync mode: command pods push events here.
			httppush.Routes(root, httpx.RequireBearer(cfg.Push.Tokens), eventBus.Deliverer, logger)
		}
	}
	if aud != nil {
		aud.Routes(root)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	if eval != nil {
		srv.RegisterOnShutdown(eval.CloseStreams) // SSE streams never go idle on their own
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "switchyard listening on http://%s (bus %s, environment %s)\n", ln.Addr(), cfg.Bus, cfg.Environment)
	if cfg.DevToken != "" {
		fmt.Fprintf(stdout, "development admin token (kept in %s): %s\n", filepath.Join(cfg.DataDir, devTokenFile), cfg.DevToken)
	}

	workers := newWorkers(logger)
	stopBus := workers.start("bus", eventBus.run)
	if err := eventBus.waitRunning(ctx); err != nil {
		return errors.Join(err, shutdown(srv, workers, cfg.ShutdownTimeout, stopBus))
	}
	if eval != nil {
		if err := eval.Start(ctx); err != nil {
			return errors.Join(fmt.Errorf("start evaluation: %w", err), shutdown(srv, workers, cfg.ShutdownTimeout, stopBus))
		}
	}
	var stopRelay, stopFollow stopFunc
	if relay != nil {
		stopRelay = workers.start("outbox-relay", relay.Run)
	}
	if eval != nil && cfg.DSNs["evaluation"] != "" {
		// A PostgreSQL store can be shared by several replicas: each follows the events
		// the others applied. A private SQLite file has no one else to follow.
		stopFollow = workers.start("evaluation-follow", func(ctx context.Context) error { return eval.Follow(ctx, time.Second) })
	}
	if err := seed(ctx, cfg, fl, logger); err != nil {
		return errors.Join(err, shutdown(srv, workers, cfg.ShutdownTimeout, stopFollow, stopRelay, stopBus))
	}
	ready.set(true)
	logger.Info("switchyard ready", "addr", ln.Addr().String(), "bus", cfg.Bus, "environment", cfg.Environment, "version", version())

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "cause", context.Cause(ctx))
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	}
	ready.set(false)
	return errors.Join(runErr, shutdown(srv, workers, cfg.ShutdownTimeout, stopFollow, stopRelay, stopBus))
}

// shutdown drains HTTP first (in-flight writes finish, sync ones with their delivery),
// then stops the workers in the order given (the relay before the bus it publishes to).
func shutdown(srv *http.Server, w *workers, timeout time.Duration, stops ...stopFunc) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("drain http: %w", err))
	}
	for _, stop := range stops {
		if stop != nil {
			errs = append(errs, stop(ctx))
		}
	}
	return errors.Join(append(errs, w.wait(ctx))...)
}

func seed(ctx context.Context, cfg config, fl commandModule, logger *slog.Logger) error {
	if cfg.SeedFile == "" || fl == nil {
		return nil
	}
	data, err := os.ReadFile(cfg.SeedFile)
	if err != nil {
		return fmt.Errorf("read seed file: %w", err)
	}
	n, err := fl.SeedIfEmpty(ctx, cfg.Environment, data, "seed", "seed file "+filepath.Base(cfg.SeedFile))
	if err != nil {
		return fmt.Errorf("seed %s: %w", cfg.SeedFile, err)
	}
	if n > 0 {
		logger.Info("seeded flags", "environment", cfg.Environment, "count", n, "file", cfg.SeedFile)
	}
	return nil
}

// checkDelivery refuses a setup in which an event could reach no consumer. A binary that
// links only one side exchanges events with the other side's pods: through NATS (async),
// or by HTTP push from command to read pods (sync). The sync bus delivers inline, so it
// needs every consumer in this binary, counting the read pods' pushed-to projection.
func checkDelivery(cfg config, handlers []bus.Handler) error {
	commandOnly, readOnly := flagsLinked && !evaluationLinked, evaluationLinked && !flagsLinked
	switch {
	case cfg.Push.URL != "" && !commandOnly:
		return fmt.Errorf("SWITCHYARD_PUSH_URL is for a command-only binary (-tags command), and this one links %v: unset it", linkedNames())
	case len(cfg.Push.Tokens) > 0 && !readOnly:
		return fmt.Errorf("SWITCHYARD_PUSH_TOKENS is for a read-only binary (-tags read), and this one links %v: unset it", linkedNames())
	case cfg.Bus == busAsync && (commandOnly || readOnly) && cfg.NATSURL == "":
		return fmt.Errorf("this binary links only %v and SWITCHYARD_BUS=async: its events travel between the command and read pods "+
			"through NATS, so set SWITCHYARD_NATS_URL (or use SWITCHYARD_BUS=sync with the HTTP push)", linkedNames())
	case cfg.Bus == busSync && commandOnly && cfg.Push.URL == "":
		return fmt.Errorf("this binary links only %v and SWITCHYARD_BUS=sync: it must push each event to the read pods, "+
			"so set SWITCHYARD_PUSH_URL (the read service's base URL) and SWITCHYARD_PUSH_TOKEN; or use SWITCHYARD_BUS=async with SWITCHYARD_NATS_URL", linkedNames())
	case cfg.Bus == busSync && readOnly && len(cfg.Push.Tokens) == 0:
		return fmt.Errorf("this binary links only %v and SWITCHYARD_BUS=sync: it receives events pushed by the command pods, "+
			"so set SWITCHYARD_PUSH_TOKENS (name:token pairs the command pods push with); or use SWITCHYARD_BUS=async with SWITCHYARD_NATS_URL", linkedNames())
	}
	if !flagsLinked || cfg.Bus != busSync {
		return nil
	}
	have := map[string]bool{}
	for _, h := range handlers {
		have[h.Name] = true
	}
	for _, consumer := range []string{flagsv1.ConsumerEvaluationProjection, flagsv1.ConsumerAuditTimeline} {
		if !have[consumer] {
			return fmt.Errorf("SWITCHYARD_BUS=sync needs every consumer of %s in this binary or pushed to, and %s is neither: use SWITCHYARD_BUS=async with SWITCHYARD_NATS_URL", flagsv1.Topic, consumer)
		}
	}
	return nil
}

// pushBreakerName names the push's circuit breaker in logs and metrics.
const pushBreakerName = "push-" + flagsv1.ConsumerEvaluationProjection

// newPusher is the command pods' client of the read pods' push endpoint; onTrip runs when
// its breaker opens, onClose when it closes again.
func newPusher(p pushConfig, logger *slog.Logger, onTrip func(error, uint32, time.Duration), onClose func()) (*httppush.Pusher, error) {
	pusher, err := httppush.New(httppush.Options{
		Consumer: flagsv1.ConsumerEvaluationProjection, Topic: flagsv1.Topic, URL: p.URL, Token: p.Token, Logger: logger,
		Breaker: breaker.Settings{Name: pushBreakerName, CallTimeout: p.Timeout, TripAfter: p.TripAfter, Cooldown: p.Cooldown,
			MaxCooldown: p.MaxCooldown, OnTrip: onTrip, OnClose: func(time.Duration) { onClose() }},
	})
	if err != nil {
		return nil, fmt.Errorf("push to read pods: %w", err)
	}
	return pusher, nil
}

// readiness is what /readyz reports beyond the modules' own readiness.
type readiness struct {
	mu    sync.RWMutex
	ready bool
}

func (r *readiness) set(v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ready = v
}

func (r *readiness) get() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.ready
}

func registerHealth(e *echo.Echo, ready *readiness, eval readModule) {
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", func(c echo.Context) error {
		var reasons []string
		if eval == nil {
			// a binary without the read side has no snapshots to wait for
		} else if err := eval.Ready(); err != nil {
			reasons = append(reasons, "evaluation: "+err.Error())
		}
		if !ready.get() {
			reasons = append(reasons, "service is starting or stopping")
		}
		if len(reasons) > 0 {
			return httpx.WriteProblem(c, httpx.Problem{
				Type: httpx.ProblemTypeBase + "not-ready", Title: "Not ready", Status: http.StatusServiceUnavailable,
				Detail: fmt.Sprint(reasons), Extensions: map[string]any{"reasons": reasons},
			})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
}

// registerMetrics serves reg at GET /metrics: behind the bearer tokens when any are
// configured (SWITCHYARD_METRICS_TOKENS), otherwise open on the listen address, as
// /healthz and /readyz are.
func registerMetrics(e *echo.Echo, reg *prometheus.Registry, tokens []httpx.Token, logger *slog.Logger) {
	var auth []echo.MiddlewareFunc
	if len(tokens) > 0 {
		auth = append(auth, httpx.RequireBearer(tokens))
	}
	e.GET("/metrics", echo.WrapHandler(metrics.Handler(reg, logger)), auth...)
}

// eventBus is the deliverer of the configured mode plus its lifecycle.
type eventBus struct {
	bus.Deliverer
	router router // nil in sync mode: handlers run inline, nothing to start
}

// router is an asynchronous deliverer's lifecycle (bus.Async, bus.JetStream).
type router interface {
	Run(ctx context.Context) error
	Running() <-chan struct{}
	Close() error
}

// newEventBus builds the configured delivery: inline (sync), the in-process watermill
// router (async), or NATS JetStream between processes (async with SWITCHYARD_NATS_URL).
func newEventBus(cfg config, logger *slog.Logger, handlers []bus.Handler) (*eventBus, error) {
	switch {
	case cfg.Bus == busSync:
		s, err := bus.NewSync(handlers...)
		if err != nil {
			return nil, err
		}
		return &eventBus{Deliverer: s}, nil
	case cfg.NATSURL != "":
		j, err := bus.NewJetStream(logger, bus.JetStreamOptions{
			URL: cfg.NATSURL, Stream: flagsv1.Stream, Subjects: []string{flagsv1.StreamSubject},
		}, handlers...)
		if err != nil {
			return nil, fmt.Errorf("NATS JetStream bus: %w", err)
		}
		return &eventBus{Deliverer: j, router: j}, nil
	default:
		a, err := bus.NewAsync(logger, bus.AsyncOptions{}, handlers...)
		if err != nil {
			return nil, err
		}
		return &eventBus{Deliverer: a, router: a}, nil
	}
}

func (b *eventBus) run(ctx context.Context) error {
	if b.router == nil {
		<-ctx.Done()
		return nil
	}
	go func() {
		<-ctx.Done()
		_ = b.router.Close()
	}()
	return b.router.Run(context.WithoutCancel(ctx))
}

func (b *eventBus) waitRunning(ctx context.Context) error {
	if b.router == nil {
		return nil
	}
	select {
	case <-b.router.Running():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// workers runs background loops, each stoppable on its own, and waits for all of them.
type workers struct {
	logger *slog.Logger
	wg     sync.WaitGroup
}

func newWorkers(logger *slog.Logger) *workers { return &workers{logger: logger} }

// stopFunc stops one worker and waits for it, at most until ctx ends.
type stopFunc func(ctx context.Context) error

func (w *workers) start(name string, fn func(context.Context) error) stopFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(done)
		if err := fn(ctx); err != nil {
			w.logger.Error("worker stopped with error", "worker", name, "err", err)
		}
	}()
	return func(stopCtx context.Context) error {
		cancel()
		select {
		case <-done:
			return nil
		case <-stopCtx.Done():
			return fmt.Errorf("%s did not stop in time: %w", name, stopCtx.Err())
		}
	}
}

func (w *workers) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("background workers did not stop in time: %w", ctx.Err())
	}
}
