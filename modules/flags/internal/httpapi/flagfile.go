package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/flags/internal/app"
	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/platform/apperr"
	"github.com/switchyardhq/switchyard/platform/httpx"
)

func toPlanResponse(res app.ImportResult) flagsv1.ImportPlan {
	p := res.Plan
	out := flagsv1.ImportPlan{DryRun: res.DryRun, Changes: make([]flagsv1.PlannedChange, 0, len(p.Flags)), MetadataChanged: p.MetadataChanged,
		Evaluators: flagsv1.EvaluatorChanges{Added: orEmpty(p.EvaluatorsAdded), Changed: orEmpty(p.EvaluatorsChanged), Removed: orEmpty(p.EvaluatorsRemoved)}}
	for _, f := range p.Flags {
		out.Changes = append(out.Changes, flagsv1.PlannedChange{Flag: f.Key, Action: f.Action, FromVersion: f.FromVersion, ToVersion: f.ToVersion})
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) export(c echo.Context) error {
	file, err := a.svc.Export(c.Request().Context(), c.Param("env"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, file)
}

func (a *API) importFile(c echo.Context) error {
	cmd := app.ImportFile{Environment: c.Param("env")}
	if err := parseImportQuery(c, &cmd); err != nil {
		return err
	}
	body, err := httpx.ReadBody(c)
	if err != nil {
		return err
	}
	cmd.File = body
	cmd.Author = app.Author{
		Actor:  httpx.ActorFrom(c.Request().Context()),
		Reason: strings.TrimSpace(c.Request().Header.Get(HeaderChangeReason)),
	}
	res, err := a.svc.ImportFile(c.Request().Context(), cmd)
	var notVisible *app.NotVisibleError
	var invalid domain.FieldErrors
	switch {
	case errors.As(err, &notVisible):
		c.Response().Header().Set("Retry-After", "1")
		return httpx.WriteProblem(c, httpx.Problem{
			Type:   httpx.ProblemTypeBase + "committed-not-visible",
			Title:  "Committed, not yet visible",
			Status: http.StatusServiceUnavailable,
			Detail: notVisibleDetail(fmt.Sprintf("the import is committed (%d flag changes)", len(res.Plan.Changes)), notVisible.Consumers),
			Extensions: map[string]any{
				"committed":        true,
				"pendingConsumers": notVisible.Consumers,
				"plan":             toPlanResponse(res),
			},
		})
	case errors.As(err, &invalid):
		return writeFieldErrors(c, invalid)
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, toPlanResponse(res))
}

// writeFieldErrors answers 400 with every problem in "errors"; "field" and "detail" are
// the first one's, so that a client reading only those still learns something exact.
func writeFieldErrors(c echo.Context, errs domain.FieldErrors) error {
	p := httpx.ProblemFor(errs)
	if len(errs) > 1 {
		p.Detail = fmt.Sprintf("%d problems in the flag file; the first: %s", len(errs), errs[0].Detail)
	}
	p.Extensions = map[string]any{"errors": errs}
	return httpx.WriteProblem(c, p)
}

func parseImportQuery(c echo.Context, cmd *app.ImportFile) error {
	for name, values := range c.QueryParams() {
		if len(values) != 1 {
			return apperr.InvalidField(name, "query parameter %q is given %d times; give it once", name, len(values))
		}
		var dst *bool
		switch name {
		case "dryRun":
			dst = &cmd.DryRun
		case "prune":
			dst = &cmd.Prune
		default:
			return apperr.InvalidField(name, "unknown query parameter %q; known: dryRun, prune", name)
		}
		b, err := strconv.ParseBool(values[0])
		if err != nil {
			return apperr.InvalidField(name, "%s must be true or false, got %q", name, values[0])
		}
		*dst = b
	}
	return nil
}
