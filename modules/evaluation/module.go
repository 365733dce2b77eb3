package evaluation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/ofrep"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/projection"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/sdkapi"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/snapshot"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/store"
	"github.com/switchyardhq/switchyard/platform/bus"
)

// Deps are what the evaluation module needs from the composition root.
type Deps struct {
	DB                 *sqlx.DB // the evaluation module's own database, already migrated
	Logger             *slog.Logger
	DefaultEnvironment string           // OFREP requests evaluate in this environment
	Now                func() time.Time // optional; defaults to time.Now

	// EventStreams tunes the OFREP change notifications (GET /ofrep/v1/events); the zero
	// value takes every default (at most 1000 open streams, heartbeats every 15 s, at
	// most one event per 250 ms per stream, clients asked to reconnect after 2 s).
	EventStreams EventStreamOptions
	// SnapshotAuth, when set, guards the definitions snapshot (GET /sdk/v1/flags.json),
	// a bearer token check say. Nil serves it to anyone who can reach the server, as
	// OFREP is (see the package documentation).
	SnapshotAuth echo.MiddlewareFunc
	// OnEvaluation, when set, is called for every flag evaluation the OFREP endpoints
	// answer (each flag of a bulk evaluation, not a request refused before evaluating)
	// with its OFREP reason (ERROR for a failure) and error code ("" on success): a
	// metrics counter, say. It runs on the read path and must be quick and non-blocking.
	OnEvaluation func(reason, errorCode string)
}

// EventStreamOptions tune the change notifications. Zero fields take their defaults.
type EventStreamOptions struct {
	MaxStreams  int           // open streams at once; one more is refused with a 503 (default 1000)
	Heartbeat   time.Duration // comment line on an idle stream (default 15 s)
	MinInterval time.Duration // least time between two events on a stream; changes within coalesce (default 250 ms)
	Retry       time.Duration // reconnection delay the stream asks clients for (default 2 s)
}

// Module is the evaluation module.
type Module struct {
	logger    *slog.Logger
	holder    *snapshot.Holder
	projector *projection.Projector
	api       *ofrep.API
	sdk       *sdkapi.API
	auth      echo.MiddlewareFunc

	mu      sync.Mutex
	loadErr error // why the last Start failed, for Ready
}

// New returns the module. Call Start before serving evaluations.
func New(deps Deps) (*Module, error) {
	switch {
	case deps.DB == nil:
		return nil, errors.New("Deps.DB is required")
	case deps.Logger == nil:
		return nil, errors.New("Deps.Logger is required")
	case deps.DefaultEnvironment == "":
		return nil, errors.New("Deps.DefaultEnvironment is required")
	case deps.EventStreams.MaxStreams < 0:
		return nil, fmt.Errorf("Deps.EventStreams.MaxStreams is %d: it must not be negative (0 takes the default)", deps.EventStreams.MaxStreams)
	case deps.EventStreams.Heartbeat < 0 || deps.EventStreams.MinInterval < 0 || deps.EventStreams.Retry < 0:
		return nil, errors.New("Deps.EventStreams durations must not be negative (0 takes the default)")
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	logger := deps.Logger.With("module", "evaluation")
	holder := &snapshot.Holder{}
	m := &Module{
		logger:    logger,
		holder:    holder,
		projector: projection.New(store.New(deps.DB), holder, flagsv1.ConsumerEvaluationProjection, now, logger),
		sdk:       sdkapi.New(holder, deps.DefaultEnvironment),
		auth:      deps.SnapshotAuth,
	}
	m.api = ofrep.New(holder, deps.DefaultEnvironment, now, ofrep.Options{
		MaxStreams:  deps.EventStreams.MaxStreams,
		Heartbeat:   deps.EventStreams.Heartbeat,
		MinInterval: deps.EventStreams.MinInterval,
		Retry:       deps.EventStreams.Retry,
		CatchUp:     m.catchUp,
		Observe:     deps.OnEvaluation,
	})
	return m, nil
}

// catchUp reloads the snapshots when the store holds newer revisions: a refetch named a
// configuration that another replica sharing the store has applied and this one has not
// (Follow would get there within its interval).
func (m *Module) catchUp(ctx context.Context) error {
	reloaded, err := m.projector.Refresh(ctx)
	if err != nil {
		m.logger.WarnContext(ctx, "cannot catch up with the store for a refetch naming a newer configuration", "err", err)
		return err
	}
	if reloaded {
		m.logger.InfoContext(ctx, "snapshots reloaded: a refetch named a configuration another replica applied")
	}
	return nil
}

// Start loads every environment's snapshot from the module's own store. Events handled
// before Start are in the store and so in the snapshots; events handled after it are
// applied to them.
func (m *Module) Start(ctx context.Context) error {
	err := m.projector.Load(ctx)
	m.mu.Lock()
	m.loadErr = err
	m.mu.Unlock()
	return err
}

// Follow keeps this replica's snapshots current with events that other replicas applied
// to a shared store: every interval it compares the stored revisions with its own and
// reloads when it is behind, until ctx ends. (Each event is applied once per store, by
// whichever replica claims it; the others learn of it here.)
func (m *Module) Follow(ctx context.Context, every time.Duration) error {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		if reloaded, err := m.projector.Refresh(ctx); err != nil && ctx.Err() == nil {
			m.logger.WarnContext(ctx, "cannot check the store for newer revisions", "err", err)
		} else if reloaded {
			m.logger.InfoContext(ctx, "snapshots reloaded: another replica applied newer events")
		}
	}
}

// Ready returns nil once the snapshots are loaded, and otherwise why they are not.
func (m *Module) Ready() error {
	if m.holder.Loaded() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loadErr != nil {
		return fmt.Errorf("snapshots are not loaded: %w", m.loadErr)
	}
	return errors.New("snapshots are not loaded yet: Start has not completed")
}

// Routes registers on g, the root group, the OFREP endpoints (evaluations and change
// notifications) and the SDK's definitions snapshot.
func (m *Module) Routes(g *echo.Group) {
	m.api.Routes(g)
	if m.auth != nil {
		m.sdk.Routes(g, m.auth)
	} else {
		m.sdk.Routes(g)
	}
}

// CloseStreams ends every open change-notification stream and refuses new ones. Call it
// when the HTTP server starts shutting down (http.Server.RegisterOnShutdown):
// http.Server.Shutdown waits for every handler to return, and a stream's never does on
// its own. Safe to call more than once.
func (m *Module) CloseStreams() { m.api.CloseStreams() }

// OpenStreams returns how many change-notification streams are open.
func (m *Module) OpenStreams() int { return m.api.OpenStreams() }

// SnapshotRevision returns the revision of the flag configuration environment's
// evaluations are served from (0 before any event reached it); loaded is false until
// Start has loaded the snapshots.
func (m *Module) SnapshotRevision(environment string) (revision int64, loaded bool) {
	snap, loaded := m.holder.Get(environment)
	if !loaded {
		return 0, false
	}
	return snap.Revision, true
}

// Handlers returns the module's event consumers: the projection of flag events.
func (m *Module) Handlers() []bus.Handler {
	return []bus.Handler{{
		Name:   flagsv1.ConsumerEvaluationProjection,
		Topic:  flagsv1.Topic,
		Handle: m.projectFlagChange,
	}}
}

func (m *Module) projectFlagChange(msg *message.Message) error {
	var ev flagsv1.FlagChanged
	if err := json.Unmarshal(msg.Payload, &ev); err != nil {
		return fmt.Errorf("decode flag event (message %s): %w", msg.UUID, err)
	}
	return m.projector.Apply(msg.Context(), ev)
}
