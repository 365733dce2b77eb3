package app

import (
	"context"

	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// GetFlag returns a live flag; an archived one is reported as not found, with its version.
func (s *Service) GetFlag(ctx context.Context, env, key string) (domain.Flag, error) {
	if err := validateNames(env, key); err != nil {
		return domain.Flag{}, err
	}
	f, err := s.store.Get(ctx, env, key)
	if err != nil {
		return domain.Flag{}, err
	}
	if f.Archived {
		return domain.Flag{}, apperr.New(apperr.NotFound, "flag %q in environment %q is archived (version %d)", key, env, f.Version)
	}
	return f, nil
}

// ListFlags is one page of an environment's flags, in key order.
type ListFlags struct {
	Environment     string
	AfterKey        string
	Limit           int
	IncludeArchived bool
}

// ListFlags returns one page and whether more follow.
func (s *Service) ListFlags(ctx context.Context, q ListFlags) ([]domain.Flag, bool, error) {
	if err := domain.ValidateEnvironment(q.Environment); err != nil {
		return nil, false, err
	}
	flags, err := s.store.List(ctx, q.Environment, q.AfterKey, q.Limit+1, q.IncludeArchived)
	if err != nil {
		return nil, false, err
	}
	if len(flags) > q.Limit {
		return flags[:q.Limit], true, nil
	}
	return flags, false, nil
}
