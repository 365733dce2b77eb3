package outbox

import (
	"context"
	"log/slog"
)

// logBacklog logs the backlog when anything is pending: INFO, or WARN once the oldest
// pending row is older than BacklogWarnAge. An empty outbox logs nothing, except once
// ("backlog cleared") right after a non-empty report. shown says whether the previous
// report was non-empty; the result is the same for this one.
func (r *Relay) logBacklog(ctx context.Context, shown bool) bool {
	b, err := r.Backlog(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.ErrorContext(ctx, "read outbox backlog", "err", err)
		}
		return shown
	}
	if b.Pending == 0 {
		if shown {
			r.logger.InfoContext(ctx, "outbox backlog cleared")
		}
		return false
	}
	level := slog.LevelInfo
	if b.OldestPending > r.opts.BacklogWarnAge {
		level = slog.LevelWarn
	}
	r.logger.Log(ctx, level, "outbox backlog",
		"pending", b.Pending, "failing", b.Failing, "oldest_age_ms", b.OldestAgeMs)
	return true
}
