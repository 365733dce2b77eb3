package timeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrAheadOfTimeline is returned by Follow for a position beyond the newest recorded
// entry: it was not issued by this timeline (another database, or one restored from an
// older backup), and following from it would silently skip what is recorded up to it.
var ErrAheadOfTimeline = errors.New("follow position is ahead of the timeline")

// FollowFilter selects the entries to follow. Empty strings do not filter.
type FollowFilter struct {
	Environment string
	FlagKey     string
	Actor       string
	After       int64 // follow position: entries recorded after it; 0 is the beginning
	Limit       int
}

// FollowPage is one page of the followed timeline, in the order the entries became
// visible (seq ascending). Next is the position to follow from afterwards: the seq of the
// last entry when more may follow at once, otherwise the timeline's head as this read saw
// it (never less than After), so that a filtered follower does not rescan entries it skipped.
type FollowPage struct {
	Entries []Entry
	Next    int64
}

// Head returns the current follow position of the newest entry (0 when there is none):
// following from it yields only entries recorded later.
func (s *Store) Head(ctx context.Context) (int64, error) {
	const q = `SELECT COALESCE(MAX(seq), 0) FROM audit_entries`
	var head int64
	if err := s.db.GetContext(ctx, &head, q); err != nil {
		return 0, fmt.Errorf("select audit timeline head: %w", err)
	}
	return head, nil
}

// Follow returns up to f.Limit entries matching f that were recorded after f.After, oldest
// first. It is exact because seq order is commit order (see Record): every entry with a
// seq at or below the newest visible one is already committed, so a follower that resumes
// from Next never misses an entry that commits later, nor sees one twice.
//
// The page and the head come from one statement, hence one snapshot: the head must not be
// newer than the rows the page was chosen from, or a follower would skip past entries it
// never saw.
func (s *Store) Follow(ctx context.Context, f FollowFilter) (FollowPage, error) {
	conds := []string{"seq > ?"}
	args := []any{f.After}
	if f.Environment != "" {
		conds = append(conds, "environment = ?")
		args = append(args, f.Environment)
	}
	if f.FlagKey != "" {
		conds = append(conds, "flag_key = ?")
		args = append(args, f.FlagKey)
	}
	if f.Actor != "" {
		conds = append(conds, "actor = ?")
		args = append(args, f.Actor)
	}
	// One row more than asked tells whether the page is full with more to come.
	args = append(args, f.Limit+1)
	// The LEFT JOIN keeps the head row when no entry matches; its entry columns are then
	// the zero values (seq 0, which no entry has).
	q := `SELECT h.head, COALESCE(e.seq, 0) AS seq, COALESCE(e.event_id, '') AS event_id,
COALESCE(e.event_type, '') AS event_type, COALESCE(e.action, '') AS action,
COALESCE(e.occurred_at, 0) AS occurred_at, COALESCE(e.recorded_at, 0) AS recorded_at,
COALESCE(e.actor, '') AS actor, COALESCE(e.environment, '') AS environment,
COALESCE(e.flag_key, '') AS flag_key, COALESCE(e.version, 0) AS version,
COALESCE(e.reason, '') AS reason, e.before_json, e.after_json
FROM (SELECT COALESCE(MAX(seq), 0) AS head FROM audit_entries) AS h
LEFT JOIN (SELECT seq, event_id, event_type, action, occurred_at, recorded_at, actor, environment,
flag_key, version, reason, before_json, after_json FROM audit_entries
WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY seq LIMIT ?) AS e ON 1 = 1
ORDER BY seq`

	var rows []struct {
		Head int64 `db:"head"`
		row
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return FollowPage{}, fmt.Errorf("select audit entries to follow: %w", err)
	}
	if len(rows) == 0 {
		return FollowPage{}, errors.New("select audit entries to follow: no head row")
	}
	head := rows[0].Head
	if f.After > head {
		return FollowPage{}, fmt.Errorf("follow after %d, head %d: %w", f.After, head, ErrAheadOfTimeline)
	}
	page := FollowPage{Entries: make([]Entry, 0, min(len(rows), f.Limit)), Next: head}
	for _, r := range rows {
		if r.Seq == 0 {
			break // the head row alone: nothing matches
		}
		if len(page.Entries) == f.Limit {
			page.Next = page.Entries[len(page.Entries)-1].Seq
			break
		}
		page.Entries = append(page.Entries, r.entry())
	}
	return page, nil
}
