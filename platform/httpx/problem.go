package httpx

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/platform/apperr"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// ProblemContentType is the media type of every error response.
const ProblemContentType = "application/problem+json"

// ProblemTypeBase prefixes every problem type URI.
const ProblemTypeBase = "https://switchyard.dev/problems/"

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field is the JSON path of the offending input, for validation problems.
	Field string `json:"field,omitempty"`
	// Extensions are merged into the top-level object.
	Extensions map[string]any `json:"-"`
}

type problemKind struct {
	status int
	slug   string
	title  string
}

// kinds is the one table that maps the error vocabulary to HTTP.
var kinds = map[apperr.Kind]problemKind{
	apperr.Invalid:            {http.StatusBadRequest, "invalid", "Invalid request"},
	apperr.NotFound:           {http.StatusNotFound, "not-found", "Not found"},
	apperr.Conflict:           {http.StatusConflict, "conflict", "Conflict"},
	apperr.PreconditionFailed: {http.StatusPreconditionFailed, "precondition-failed", "Precondition failed"},
	apperr.Unauthorized:       {http.StatusUnauthorized, "unauthorized", "Unauthorized"},
	apperr.TooLarge:           {http.StatusRequestEntityTooLarge, "too-large", "Request body too large"},
	apperr.Unavailable:        {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	apperr.Internal:           {http.StatusInternalServerError, "internal", "Internal error"},
}

// DatabaseUnavailableDetail is the detail of the 503 a lost database connection answers.
const DatabaseUnavailableDetail = "database unavailable; retry"

// ProblemFor turns any error into a Problem. A lost or refused database connection
// (storage.IsUnavailable), unclassified or classified Internal, is a 503 the caller may
// retry; other unclassified errors become a 500 whose detail does not leak the cause.
func ProblemFor(err error) Problem {
	var ae *apperr.Error
	classified := errors.As(err, &ae)
	if (!classified || ae.Kind == apperr.Internal) && storage.IsUnavailable(err) {
		k := kinds[apperr.Unavailable]
		return Problem{Type: ProblemTypeBase + k.slug, Title: k.title, Status: k.status, Detail: DatabaseUnavailableDetail}
	}
	if classified {
		k := kinds[ae.Kind]
		detail := ae.Detail
		if ae.Kind == apperr.Internal {
			detail = "internal error; see the server log"
		}
		return Problem{Type: ProblemTypeBase + k.slug, Title: k.title, Status: k.status, Detail: detail, Field: ae.Field}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return problemForHTTPError(he)
	}
	k := kinds[apperr.Internal]
	return Problem{Type: ProblemTypeBase + k.slug, Title: k.title, Status: k.status, Detail: "internal error; see the server log"}
}

func problemForHTTPError(he *echo.HTTPError) Problem {
	detail := http.StatusText(he.Code)
	if msg, ok := he.Message.(string); ok && msg != "" {
		detail = msg
	}
	slug := map[int]string{
		http.StatusNotFound:              "not-found",
		http.StatusMethodNotAllowed:      "method-not-allowed",
		http.StatusRequestEntityTooLarge: "too-large",
		http.StatusUnauthorized:          "unauthorized",
		http.StatusUnsupportedMediaType:  "unsupported-media-type",
		http.StatusBadRequest:            "invalid",
	}[he.Code]
	if slug == "" {
		slug = "http-" + http.StatusText(he.Code)
	}
	if he.Code == http.StatusRequestEntityTooLarge {
		detail = "request body exceeds the limit of " + humanBytes(MaxBodyBytes)
	}
	return Problem{Type: ProblemTypeBase + slug, Title: http.StatusText(he.Code), Status: he.Code, Detail: detail}
}

// WriteProblem sends p as application/problem+json.
func WriteProblem(c echo.Context, p Problem) error {
	body := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status}
	if p.Detail != "" {
		body["detail"] = p.Detail
	}
	if p.Field != "" {
		body["field"] = p.Field
	}
	for k, v := range p.Extensions {
		body[k] = v
	}
	body["instance"] = c.Request().URL.Path
	c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
	return c.JSON(p.Status, body)
}

// ErrorHandler returns echo's central error handler: every error a handler returns, and
// every error echo raises itself (unknown route, wrong method, body too large), leaves as
// problem+json. Server-side failures are logged with their cause.
func ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := ProblemFor(err)
		if p.Status >= 500 {
			logger.ErrorContext(c.Request().Context(), "request failed",
				"method", c.Request().Method, "path", c.Request().URL.Path, "status", p.Status, "err", err)
		}
		if werr := WriteProblem(c, p); werr != nil {
			logger.WarnContext(c.Request().Context(), "write problem response", "err", werr)
		}
	}
}
