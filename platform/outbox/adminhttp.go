package outbox

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/platform/apperr"
)

// AdminPath is where Routes mounts the outbox's admin endpoints.
const AdminPath = "/api/v1/admin/outbox"

// DefaultListLimit is the page size of the failing list when the caller gives none.
const DefaultListLimit = 50

// maxEventIDLength bounds the event id a caller may name.
const maxEventIDLength = 200

// Routes mounts the outbox's admin endpoints on g behind auth:
//
//	GET  /api/v1/admin/outbox                     -> {"pending","failing","oldestAgeMs"}
//	GET  /api/v1/admin/outbox/failing?limit=      -> {"entries":[Entry...]}
//	POST /api/v1/admin/outbox/{eventId}/resubmit  -> 202 Entry; 404 when nothing is waiting
func (r *Relay) Routes(g *echo.Group, auth echo.MiddlewareFunc) {
	if g == nil || auth == nil {
		panic("outbox.Relay.Routes: nil dependency")
	}
	admin := g.Group(AdminPath, auth)
	admin.GET("", r.getBacklog)
	admin.GET("/failing", r.getFailing)
	admin.POST("/:eventId/resubmit", r.postResubmit)
}

func (r *Relay) getBacklog(c echo.Context) error {
	b, err := r.Backlog(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (r *Relay) getFailing(c echo.Context) error {
	for name := range c.QueryParams() {
		if name != "limit" {
			return apperr.InvalidField(name, "unknown query parameter %q; this endpoint takes limit", name)
		}
	}
	limit := DefaultListLimit
	if raw := c.QueryParam("limit"); raw != "" || c.QueryParams().Has("limit") {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxListLimit {
			return apperr.InvalidField("limit", "limit must be an integer between 1 and %d, got %q", MaxListLimit, raw)
		}
		limit = n
	}
	entries, err := r.ListFailing(c.Request().Context(), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": entries})
}

func (r *Relay) postResubmit(c echo.Context) error {
	eventID, err := url.PathUnescape(c.Param("eventId"))
	if err != nil || eventID == "" || len(eventID) > maxEventIDLength {
		return apperr.InvalidField("eventId", "eventId must be 1 to %d characters", maxEventIDLength)
	}
	e, err := r.Resubmit(c.Request().Context(), eventID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, e)
}
