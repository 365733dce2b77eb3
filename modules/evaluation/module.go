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
}

// Module is the evaluation module.
type Module struct {
	logger    *slog.Logger
	holder    *snapshot.Holder
	projector *projection.Projector
	api       *ofrep.API

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
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	logger := deps.Logger.With("module", "evaluation")
	holder := &snapshot.Holder{}
	return &Module{
		logger:    logger,
		holder:    holder,
		projector: projection.New(store.New(deps.DB), holder, flagsv1.ConsumerEvaluationProjection, now, logger),
		api:       ofrep.New(holder, deps.DefaultEnvironment, now),
	}, nil
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

// Routes registers the OFREP endpoints on g, the root group.
func (m *Module) Routes(g *echo.Group) { m.api.Routes(g) }

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
