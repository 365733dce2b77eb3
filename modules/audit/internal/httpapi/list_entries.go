// Package httpapi serves the audit timeline over HTTP.
package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/modules/audit/internal/timeline"
)

// timeLayout is RFC 3339 in UTC with exactly millisecond precision, the precision stored.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// EntryDTO is one timeline entry in GET /api/v1/audit and GET /api/v1/audit/changes.
type EntryDTO struct {
	EventID     string          `json:"eventId"`
	OccurredAt  string          `json:"occurredAt"`
	Actor       string          `json:"actor"`
	Action      string          `json:"action"`
	Environment string          `json:"environment"`
	Flag        string          `json:"flag"`
	Version     int64           `json:"version"`
	Reason      string          `json:"reason"`
	Before      json.RawMessage `json:"before"` // flag definition, or null
	After       json.RawMessage `json:"after"`  // flag definition, or null
}

// ListResponse is the body of GET /api/v1/audit. NextCursor is absent on the last page.
type ListResponse struct {
	Entries    []EntryDTO `json:"entries"`
	NextCursor string     `json:"nextCursor,omitempty"`
}

// NewListEntries returns the handler of GET /api/v1/audit: the timeline newest first,
// filtered and paged by the query parameters (see parseQuery).
func NewListEntries(store *timeline.Store) echo.HandlerFunc {
	if store == nil {
		panic("httpapi.NewListEntries: nil store")
	}
	return func(c echo.Context) error {
		f, err := parseQuery(c.Request().URL.RawQuery)
		if err != nil {
			return err
		}
		page, err := store.List(c.Request().Context(), f)
		if err != nil {
			return err
		}
		resp := ListResponse{Entries: make([]EntryDTO, 0, len(page.Entries))}
		for _, e := range page.Entries {
			resp.Entries = append(resp.Entries, entryDTO(e))
		}
		if page.Next != nil {
			resp.NextCursor = encodeCursor(*page.Next)
		}
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return c.JSON(http.StatusOK, resp)
	}
}

func entryDTO(e timeline.Entry) EntryDTO {
	return EntryDTO{
		EventID:     e.EventID,
		OccurredAt:  e.OccurredAt.UTC().Format(timeLayout),
		Actor:       e.Actor,
		Action:      e.Action,
		Environment: e.Environment,
		Flag:        e.FlagKey,
		Version:     e.Version,
		Reason:      e.Reason,
		Before:      e.Before,
		After:       e.After,
	}
}
