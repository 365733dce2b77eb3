package flags

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/modules/flags/internal/app"
	"github.com/switchyardhq/switchyard/modules/flags/internal/httpapi"
	"github.com/switchyardhq/switchyard/modules/flags/internal/store"
)

// Dispatcher takes each committed event to its consumers; outbox.Dispatcher is one.
type Dispatcher = app.Dispatcher

// Deps is what the flags module needs from the composition root.
type Deps struct {
	DB         *sqlx.DB            // the module's own database, migrated
	Logger     *slog.Logger        //
	Dispatcher Dispatcher          // sync (inline) or async delivery of committed events
	AdminAuth  echo.MiddlewareFunc // authenticates admin callers and names the actor
	Now        func() time.Time    // optional; time.Now
}

// Module is the flags module's public face.
type Module struct {
	svc  *app.Service
	auth echo.MiddlewareFunc
}

// New builds the module.
func New(deps Deps) (*Module, error) {
	switch {
	case deps.DB == nil:
		return nil, errors.New("flags: Deps.DB is required")
	case deps.Logger == nil:
		return nil, errors.New("flags: Deps.Logger is required")
	case deps.Dispatcher == nil:
		return nil, errors.New("flags: Deps.Dispatcher is required")
	case deps.AdminAuth == nil:
		return nil, errors.New("flags: Deps.AdminAuth is required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	logger := deps.Logger.With("module", "flags")
	return &Module{svc: app.New(store.New(deps.DB), deps.Dispatcher, deps.Now, logger), auth: deps.AdminAuth}, nil
}

// Routes mounts the admin API (/api/v1/environments/{env}/flags...) on g.
func (m *Module) Routes(g *echo.Group) { httpapi.Register(g, m.svc, m.auth) }

// SeedIfEmpty loads a flagd flag file into env when env never had a flag, recording each
// flag as a change by actor with the given reason. It returns the number of flags created.
func (m *Module) SeedIfEmpty(ctx context.Context, env string, flagFile []byte, actor, reason string) (int, error) {
	return m.svc.SeedIfEmpty(ctx, env, flagFile, app.Author{Actor: actor, Reason: reason})
}
