package httpx

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/switchyardhq/switchyard/platform/apperr"
)

// NewEcho returns an echo instance with Switchyard's error handling: problem+json for
// every error, a global body limit, trailing slashes ignored, and panics turned into 500
// problems (logged with the stack) so that no panic reaches a client as a dropped connection.
func NewEcho(logger *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = ErrorHandler(logger)
	// "/flags/" and "/flags" are the same resource to a person typing a URL.
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(recoverToProblem(logger))
	e.Use(middleware.BodyLimit(fmt.Sprintf("%dB", MaxBodyBytes)))
	return e
}

func recoverToProblem(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					logger.ErrorContext(c.Request().Context(), "handler panicked",
						"path", c.Request().URL.Path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					err = &apperr.Error{Kind: apperr.Internal, Detail: "handler panicked", Err: fmt.Errorf("panic: %v", r)}
				}
			}()
			return next(c)
		}
	}
}
