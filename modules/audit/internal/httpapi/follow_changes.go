package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/modules/audit/internal/timeline"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// FollowResponse is the body of GET /api/v1/audit/changes: entries oldest first, in the
// order they were recorded, and the cursor to follow from next, always present.
type FollowResponse struct {
	Entries []EntryDTO `json:"entries"`
	Next    string     `json:"next"`
}

// NewFollowChanges returns the handler of GET /api/v1/audit/changes: the entries recorded
// after the after cursor, in recording order, filtered by the query (see parseFollowQuery).
func NewFollowChanges(store *timeline.Store) echo.HandlerFunc {
	if store == nil {
		panic("httpapi.NewFollowChanges: nil store")
	}
	return func(c echo.Context) error {
		q, err := parseFollowQuery(c.Request().URL.RawQuery)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		var page timeline.FollowPage
		if q.fromNow {
			page.Next, err = store.Head(ctx)
		} else {
			page, err = store.Follow(ctx, q.filter)
		}
		if errors.Is(err, timeline.ErrAheadOfTimeline) {
			return apperr.InvalidField("after", "after is ahead of this audit timeline: it was issued by another "+
				"database or before a restore; start following again with start=beginning or start=now")
		}
		if err != nil {
			return err
		}
		resp := FollowResponse{Entries: make([]EntryDTO, 0, len(page.Entries)), Next: encodeFollowCursor(page.Next)}
		for _, e := range page.Entries {
			resp.Entries = append(resp.Entries, entryDTO(e))
		}
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return c.JSON(http.StatusOK, resp)
	}
}
