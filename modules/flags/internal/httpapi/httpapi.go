// Package httpapi is the flags module's admin API: flag definitions per environment,
// bearer-token protected, with versions as ETags and If-Match for optimistic concurrency.
package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/flags/internal/app"
	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/platform/apperr"
	"github.com/switchyardhq/switchyard/platform/httpx"
)

// HeaderChangeReason carries the reason recorded with a change.
const HeaderChangeReason = "X-Change-Reason"

// Paging bounds for the list endpoint.
const (
	DefaultPageSize = 100
	MaxPageSize     = 500
)

// API serves the flags admin endpoints.
type API struct {
	svc *app.Service
}

// Register mounts the admin endpoints on g behind auth.
func Register(g *echo.Group, svc *app.Service, auth echo.MiddlewareFunc) {
	if svc == nil || auth == nil {
		panic("httpapi.Register: nil dependency")
	}
	a := &API{svc: svc}
	flags := g.Group("/api/v1/environments/:env/flags", auth)
	flags.GET("", a.list)
	flags.GET("/:key", a.get)
	flags.PUT("/:key", a.put)
	flags.PUT("/:key/state", a.setState)
	flags.DELETE("/:key", a.archive)
	env := g.Group("/api/v1/environments/:env", auth)
	env.GET("/flags.json", a.export)
	env.POST("/import", a.importFile)
}

// FlagResponse is a stored flag: its flagd definition plus who changed it, when and why.
type FlagResponse struct {
	Environment string `json:"environment"`
	Key         string `json:"key"`
	Version     int64  `json:"version"`
	flagsv1.Definition
	Archived     bool      `json:"archived"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	UpdatedBy    string    `json:"updatedBy"`
	ChangeReason string    `json:"changeReason,omitempty"`
}

// ListResponse is one page of flags.
type ListResponse struct {
	Flags      []FlagResponse `json:"flags"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

type stateRequest struct {
	State string `json:"state"`
}

func toResponse(f domain.Flag) FlagResponse {
	return FlagResponse{
		Environment: f.Environment, Key: f.Key, Version: f.Version, Definition: f.Definition,
		Archived: f.Archived, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt,
		UpdatedBy: f.UpdatedBy, ChangeReason: f.ChangeReason,
	}
}

func (a *API) get(c echo.Context) error {
	f, err := a.svc.GetFlag(c.Request().Context(), c.Param("env"), c.Param("key"))
	if err != nil {
		return err
	}
	setETag(c, f.Version)
	return c.JSON(http.StatusOK, toResponse(f))
}

func (a *API) list(c echo.Context) error {
	q, err := parseListQuery(c)
	if err != nil {
		return err
	}
	flags, more, err := a.svc.ListFlags(c.Request().Context(), q)
	if err != nil {
		return err
	}
	resp := ListResponse{Flags: make([]FlagResponse, 0, len(flags))}
	for _, f := range flags {
		resp.Flags = append(resp.Flags, toResponse(f))
	}
	if more && len(flags) > 0 {
		resp.NextCursor = encodeCursor(flags[len(flags)-1].Key)
	}
	return c.JSON(http.StatusOK, resp)
}

func (a *API) put(c echo.Context) error {
	var def flagsv1.Definition
	if err := httpx.BindStrict(c, &def); err != nil {
		return err
	}
	cmd := app.PutFlag{Environment: c.Param("env"), Key: c.Param("key"), Definition: def}
	if err := a.preconditions(c, &cmd.IfMatch, &cmd.Author); err != nil {
		return err
	}
	res, err := a.svc.PutFlag(c.Request().Context(), cmd)
	return respond(c, res, err)
}

func (a *API) setState(c echo.Context) error {
	var body stateRequest
	if err := httpx.BindStrict(c, &body); err != nil {
		return err
	}
	cmd := app.SetState{Environment: c.Param("env"), Key: c.Param("key"), State: body.State}
	if err := a.preconditions(c, &cmd.IfMatch, &cmd.Author); err != nil {
		return err
	}
	res, err := a.svc.SetState(c.Request().Context(), cmd)
	return respond(c, res, err)
}

func (a *API) archive(c echo.Context) error {
	cmd := app.ArchiveFlag{Environment: c.Param("env"), Key: c.Param("key")}
	if err := a.preconditions(c, &cmd.IfMatch, &cmd.Author); err != nil {
		return err
	}
	res, err := a.svc.ArchiveFlag(c.Request().Context(), cmd)
	return respond(c, res, err)
}

func (a *API) preconditions(c echo.Context, ifMatch *app.Precondition, author *app.Author) error {
	p, err := parseIfMatch(c.Request().Header.Get("If-Match"))
	if err != nil {
		return err
	}
	*ifMatch = p
	*author = app.Author{
		Actor:  httpx.ActorFrom(c.Request().Context()),
		Reason: strings.TrimSpace(c.Request().Header.Get(HeaderChangeReason)),
	}
	return nil
}

// respond answers a change command: 201 for a creation, 200 otherwise, and for a change
// that committed but is not yet visible (sync mode) a 503 problem that says so.
func respond(c echo.Context, res app.Result, err error) error {
	var notVisible *app.NotVisibleError
	if errors.As(err, &notVisible) {
		setETag(c, res.Flag.Version)
		c.Response().Header().Set("Retry-After", "1")
		return httpx.WriteProblem(c, httpx.Problem{
			Type:   httpx.ProblemTypeBase + "committed-not-visible",
			Title:  "Committed, not yet visible",
			Status: http.StatusServiceUnavailable,
			Detail: notVisibleDetail(fmt.Sprintf("the change is committed at version %d", res.Flag.Version), notVisible.Consumers),
			Extensions: map[string]any{
				"committed":        true,
				"version":          res.Flag.Version,
				"pendingConsumers": notVisible.Consumers,
			},
		})
	}
	if err != nil {
		return err
	}
	setETag(c, res.Flag.Version)
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, c.Request().URL.Path)
	}
	return c.JSON(status, toResponse(res.Flag))
}

// notVisibleDetail says what a committed-but-not-visible answer means: which consumers
// have not applied what was committed, or that its delivery could not even be attempted.
func notVisibleDetail(committed string, consumers []string) string {
	if len(consumers) == 0 {
		return committed + ", but its delivery could not be attempted yet; the outbox keeps it and will deliver it"
	}
	return committed + " but not yet visible to " + strings.Join(consumers, ", ") + "; the outbox keeps it and will deliver it"
}

func setETag(c echo.Context, version int64) {
	c.Response().Header().Set("ETag", strconv.Quote(strconv.FormatInt(version, 10)))
}

// parseIfMatch reads `If-Match: "<version>"` or `If-Match: *`.
func parseIfMatch(header string) (app.Precondition, error) {
	h := strings.TrimSpace(header)
	switch h {
	case "":
		return app.Precondition{}, nil
	case "*":
		return app.Precondition{Exists: true}, nil
	}
	raw := strings.TrimPrefix(h, "W/")
	if unq, err := strconv.Unquote(raw); err == nil {
		raw = unq
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v < 1 {
		return app.Precondition{}, apperr.InvalidField("If-Match", "If-Match must be one flag version as an ETag, e.g. \"3\", or *; got %q", header)
	}
	return app.Precondition{Version: &v}, nil
}
