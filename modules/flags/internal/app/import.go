package app

import (
	"context"
	"errors"
	"slices"

	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/platform/bus"
)

// DefaultImportReason is the change reason of an import that gives none.
const DefaultImportReason = "import"

// ImportFile loads a flagd flag file into an environment, all or nothing.
type ImportFile struct {
	Environment string
	File        []byte
	DryRun      bool // plan only; change nothing
	Prune       bool // see domain.ImportOptions
	Author      Author
}

// ImportResult is what an import did, or would do when DryRun.
type ImportResult struct {
	Plan   domain.ImportPlan
	DryRun bool
}

// ImportFile validates the whole file against the environment, then writes every change
// (flags, evaluators, metadata, history, events) in one transaction and hands each event
// to the dispatcher. When a consumer fails in sync mode, the import is committed and the
// error is a *NotVisibleError.
func (s *Service) ImportFile(ctx context.Context, cmd ImportFile) (ImportResult, error) {
	if err := domain.ValidateEnvironment(cmd.Environment); err != nil {
		return ImportResult{}, err
	}
	if cmd.Author.Reason == "" {
		cmd.Author.Reason = DefaultImportReason
	}
	if err := cmd.Author.validate(); err != nil {
		return ImportResult{}, err
	}
	file, err := ParseFlagFile(cmd.File)
	if err != nil {
		return ImportResult{}, err
	}
	return s.importFile(ctx, cmd.Environment, file, domain.ImportOptions{Prune: cmd.Prune}, cmd.DryRun, cmd.Author, nil)
}

// importFile plans and (unless dryRun) applies an import; guard may refuse the
// environment as found inside the transaction.
func (s *Service) importFile(ctx context.Context, env string, file domain.FlagFile, opts domain.ImportOptions, dryRun bool,
	author Author, guard func(domain.Environment) error) (ImportResult, error) {
	m := s.meta(author, Precondition{})
	plan, err := s.store.Import(ctx, env, s.dispatch.Hold(), dryRun, func(e domain.Environment) (*domain.ImportPlan, error) {
		if guard != nil {
			if err := guard(e); err != nil {
				return nil, err
			}
		}
		return domain.PlanImport(e, file, opts, m)
	})
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Plan: *plan, DryRun: dryRun}
	if dryRun {
		return res, nil
	}
	return res, s.dispatchAll(ctx, env, plan.Changes)
}

// dispatchAll hands every committed event to the dispatcher, even after one failed: each
// delivered event is one more change visible now, and the rest stay in the outbox.
func (s *Service) dispatchAll(ctx context.Context, env string, changes []*domain.Change) error {
	var errs []error
	var failed []string
	for _, c := range changes {
		if err := s.dispatch.AfterCommit(ctx, c.Event.EventID); err != nil {
			s.logger.WarnContext(ctx, "change committed but not yet visible", "environment", env, "flag", c.Next.Key,
				"version", c.Next.Version, "event_id", c.Event.EventID, "err", err)
			errs = append(errs, err)
			for _, h := range bus.FailedHandlers(err) {
				if !slices.Contains(failed, h) {
					failed = append(failed, h)
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	slices.Sort(failed)
	return &NotVisibleError{Consumers: failed, Err: errors.Join(errs...)}
}
