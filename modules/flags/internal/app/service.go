// Package app holds the flags module's use cases, one per file. Each validates its
// command, lets the domain decide the change inside the store's transaction, and then
// hands the committed event to the dispatcher.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/modules/flags/internal/store"
	"github.com/switchyardhq/switchyard/platform/apperr"
	"github.com/switchyardhq/switchyard/platform/bus"
)

// MaxReasonLength bounds a change reason.
const MaxReasonLength = 1000

// Dispatcher takes a committed event to its consumers (see outbox.Dispatcher).
type Dispatcher interface {
	Hold() time.Duration
	AfterCommit(ctx context.Context, eventID string) error
}

// Service runs the flags module's use cases.
type Service struct {
	store    *store.Store
	dispatch Dispatcher
	now      func() time.Time
	logger   *slog.Logger
}

// New returns the use cases over st. It panics on a nil dependency.
func New(st *store.Store, dispatch Dispatcher, now func() time.Time, logger *slog.Logger) *Service {
	if st == nil || dispatch == nil || now == nil || logger == nil {
		panic("app.New: nil dependency")
	}
	return &Service{store: st, dispatch: dispatch, now: now, logger: logger}
}

// Result is the outcome of a change command.
type Result struct {
	Flag    domain.Flag
	Created bool // the flag did not exist (or was archived) before
	Changed bool // false when the command was a no-op
}

// NotVisibleError says a change committed at Version (0 for an import, which commits
// many) but not every consumer has applied it yet (sync mode). The outbox keeps the
// event and delivers it later.
type NotVisibleError struct {
	Version   int64
	Consumers []string
	Err       error
}

func (e *NotVisibleError) Error() string {
	if e.Version == 0 {
		return fmt.Sprintf("changes committed but not yet visible to %s: %v", strings.Join(e.Consumers, ", "), e.Err)
	}
	return fmt.Sprintf("change committed at version %d but not yet visible to %s: %v",
		e.Version, strings.Join(e.Consumers, ", "), e.Err)
}

func (e *NotVisibleError) Unwrap() error { return e.Err }

// Author is who makes a change and why; Actor comes from authentication, never a body.
type Author struct {
	Actor  string
	Reason string
}

func (a Author) validate() error {
	if a.Actor == "" {
		return apperr.New(apperr.Unauthorized, "no authenticated actor")
	}
	if len(a.Reason) > MaxReasonLength {
		return apperr.InvalidField("X-Change-Reason", "change reason is %d bytes, at most %d", len(a.Reason), MaxReasonLength)
	}
	if strings.IndexFunc(a.Reason, func(r rune) bool { return unicode.IsControl(r) }) >= 0 {
		return apperr.InvalidField("X-Change-Reason", "change reason must not contain control characters")
	}
	return nil
}

// Precondition is what the caller expects of the flag before the change (If-Match).
type Precondition struct {
	Version *int64 // If-Match: "<version>"
	Exists  bool   // If-Match: *
}

func (s *Service) meta(a Author, p Precondition) domain.Meta {
	return domain.Meta{Actor: a.Actor, Reason: a.Reason, At: s.now().UTC(), IfMatch: p.Version, MustExist: p.Exists}
}

func (s *Service) apply(ctx context.Context, env, key string, decide store.Decide) (Result, error) {
	flag, change, err := s.store.Update(ctx, env, key, s.dispatch.Hold(), decide)
	if err != nil {
		return Result{}, err
	}
	if change == nil {
		return Result{Flag: flag}, nil
	}
	res := Result{Flag: flag, Changed: true, Created: change.Event.Before == nil && change.Event.After != nil}
	if err := s.dispatch.AfterCommit(ctx, change.Event.EventID); err != nil {
		s.logger.WarnContext(ctx, "change committed but not yet visible",
			"environment", env, "flag", key, "version", flag.Version, "event_id", change.Event.EventID, "err", err)
		return res, &NotVisibleError{Version: flag.Version, Consumers: bus.FailedHandlers(err), Err: err}
	}
	return res, nil
}

// checkCommand validates what every change command carries: where and by whom.
func checkCommand(env, key string, a Author) error {
	if err := validateNames(env, key); err != nil {
		return err
	}
	return a.validate()
}

func validateNames(env, key string) error {
	if err := domain.ValidateEnvironment(env); err != nil {
		return err
	}
	return domain.ValidateFlagKey(key)
}
