package app

import (
	"context"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// Export returns an environment's live flags, evaluators and flag-set metadata as a flagd
// flag file, each definition exactly as stored.
func (s *Service) Export(ctx context.Context, env string) (domain.FlagFile, error) {
	if err := domain.ValidateEnvironment(env); err != nil {
		return domain.FlagFile{}, err
	}
	e, err := s.store.Environment(ctx, env)
	if err != nil {
		return domain.FlagFile{}, err
	}
	if !e.Exists {
		return domain.FlagFile{}, apperr.New(apperr.NotFound, "environment %q has never had a flag", env)
	}
	file := domain.FlagFile{Schema: domain.SchemaURL, Flags: map[string]flagsv1.Definition{},
		Evaluators: e.Set.Evaluators, Metadata: e.Set.Metadata}
	for key, f := range e.Flags {
		if !f.Archived {
			file.Flags[key] = f.Definition
		}
	}
	return file, nil
}
