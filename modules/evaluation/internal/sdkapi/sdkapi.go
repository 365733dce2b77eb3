// Package sdkapi serves what Switchyard's SDKs need beyond OFREP: the definitions
// snapshot of the default environment (contracts/snapshotv1), for evaluating in-process
// and for a last-good copy on disk. It reads the in-memory snapshots only, and answers
// conditional requests from the revision alone.
package sdkapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/snapshot"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// API serves one environment's definitions snapshot.
type API struct {
	holder      *snapshot.Holder
	environment string
}

// New returns the API serving environment's snapshot from holder.
func New(holder *snapshot.Holder, environment string) *API {
	if holder == nil || environment == "" {
		panic("sdkapi: nil holder or empty environment")
	}
	return &API{holder: holder, environment: environment}
}

// Routes registers GET snapshotv1.Path on g behind mw (an authentication check, say).
func (a *API) Routes(g *echo.Group, mw ...echo.MiddlewareFunc) {
	g.GET(snapshotv1.Path, a.definitions, mw...)
}

// definitions answers the snapshot with its ETag (the etag of the change events for the
// same revision) and Last-Modified, or 304 when If-None-Match names that ETag.
func (a *API) definitions(c echo.Context) error {
	snap, loaded := a.holder.Get(a.environment)
	if !loaded {
		c.Response().Header().Set(echo.HeaderRetryAfter, "1")
		return apperr.New(apperr.Unavailable, "evaluation snapshot is not loaded yet")
	}
	h := c.Response().Header()
	h.Set("ETag", snap.ETag())
	h.Set(echo.HeaderCacheControl, "no-cache") // a cache may keep it, but must revalidate
	if !snap.Modified.IsZero() {
		h.Set(echo.HeaderLastModified, snap.Modified.UTC().Format(http.TimeFormat))
	}
	if noneMatch(c.Request().Header.Get("If-None-Match"), snap.ETag()) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, snap.Definitions())
}

// noneMatch reports whether an If-None-Match header names etag: a comma-separated list
// of entity tags (weak ones compared weakly) or "*".
func noneMatch(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
