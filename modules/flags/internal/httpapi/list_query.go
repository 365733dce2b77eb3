package httpapi

import (
	"encoding/base64"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/modules/flags/internal/app"
	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

func parseListQuery(c echo.Context) (app.ListFlags, error) {
	q := app.ListFlags{Environment: c.Param("env"), Limit: DefaultPageSize}
	for name, values := range c.QueryParams() {
		if len(values) != 1 {
			return q, apperr.InvalidField(name, "query parameter %q is given %d times; give it once", name, len(values))
		}
		v := values[0]
		switch name {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxPageSize {
				return q, apperr.InvalidField("limit", "limit must be an integer from 1 to %d, got %q", MaxPageSize, v)
			}
			q.Limit = n
		case "cursor":
			key, err := decodeCursor(v)
			if err != nil {
				return q, err
			}
			q.AfterKey = key
		case "archived":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return q, apperr.InvalidField("archived", "archived must be true or false, got %q", v)
			}
			q.IncludeArchived = b
		default:
			return q, apperr.InvalidField(name, "unknown query parameter %q; known: limit, cursor, archived", name)
		}
	}
	return q, nil
}

func encodeCursor(lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastKey))
}

func decodeCursor(cursor string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || domain.ValidateFlagKey(string(raw)) != nil {
		return "", apperr.InvalidField("cursor", "cursor %q is not one this server issued; start again without it", cursor)
	}
	return string(raw), nil
}
