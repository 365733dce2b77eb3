package audit

import (
	"errors"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/audit/internal/httpapi"
	"github.com/switchyardhq/switchyard/modules/audit/internal/recording"
	"github.com/switchyardhq/switchyard/modules/audit/internal/timeline"
	"github.com/switchyardhq/switchyard/platform/bus"
)

// Deps is what the audit module needs from the composition root.
type Deps struct {
	DB        *sqlx.DB            // the audit module's own database, already migrated
	Logger    *slog.Logger        // required
	AdminAuth echo.MiddlewareFunc // authenticates admin callers (httpx.RequireBearer); required
	Now       func() time.Time    // optional; defaults to time.Now
}

// Module is the audit module's public face.
type Module struct {
	adminAuth echo.MiddlewareFunc
	list      echo.HandlerFunc
	changes   echo.HandlerFunc
	record    bus.Handler
}

// New builds the module from deps.
func New(deps Deps) (*Module, error) {
	switch {
	case deps.DB == nil:
		return nil, errors.New("audit: Deps.DB is required")
	case deps.Logger == nil:
		return nil, errors.New("audit: Deps.Logger is required")
	case deps.AdminAuth == nil:
		return nil, errors.New("audit: Deps.AdminAuth is required")
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	logger := deps.Logger.With("module", "audit")
	store := timeline.NewStore(deps.DB)
	return &Module{
		adminAuth: deps.AdminAuth,
		list:      httpapi.NewListEntries(store),
		changes:   httpapi.NewFollowChanges(store),
		record: bus.Handler{
			Name:   flagsv1.ConsumerAuditTimeline,
			Topic:  flagsv1.Topic,
			Handle: recording.NewRecordChange(store, flagsv1.ConsumerAuditTimeline, logger, now),
		},
	}, nil
}

// Routes registers GET /api/v1/audit and GET /api/v1/audit/changes on g (the root
// group), behind AdminAuth.
func (m *Module) Routes(g *echo.Group) {
	g.GET("/api/v1/audit", m.list, m.adminAuth)
	g.GET("/api/v1/audit/changes", m.changes, m.adminAuth)
}

// Handlers returns the module's event handlers: the timeline recorder of flag events.
func (m *Module) Handlers() []bus.Handler {
	return []bus.Handler{m.record}
}
