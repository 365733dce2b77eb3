package httpx

import (
	"context"
	"crypto/subtle"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/platform/apperr"
)

// Token is a named bearer credential. Name is what the audit trail records as the actor.
type Token struct {
	Name   string
	Secret string
}

type actorKey struct{}

// WithActor returns ctx carrying the authenticated actor's name.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the authenticated actor's name, or "" when the request was not authenticated.
func ActorFrom(ctx context.Context) string {
	actor, _ := ctx.Value(actorKey{}).(string)
	return actor
}

// RequireBearer authenticates `Authorization: Bearer <secret>` against tokens and puts the
// token's name into the request context as the actor. Secrets are compared in constant time.
func RequireBearer(tokens []Token) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			header := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, secret, ok := strings.Cut(header, " ")
			if header == "" || !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="switchyard"`)
				return apperr.New(apperr.Unauthorized, "missing bearer token: send 'Authorization: Bearer <admin token>'")
			}
			name, found := match(tokens, strings.TrimSpace(secret))
			if !found {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="switchyard", error="invalid_token"`)
				return apperr.New(apperr.Unauthorized, "invalid bearer token")
			}
			req := c.Request()
			c.SetRequest(req.WithContext(WithActor(req.Context(), name)))
			return next(c)
		}
	}
}

func match(tokens []Token, secret string) (string, bool) {
	name, found := "", false
	for _, t := range tokens {
		if subtle.ConstantTimeCompare([]byte(t.Secret), []byte(secret)) == 1 && !found {
			name, found = t.Name, true
		}
	}
	return name, found
}
