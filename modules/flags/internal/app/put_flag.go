package app

import (
	"context"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
)

// PutFlag creates or replaces a flag's definition.
type PutFlag struct {
	Environment string
	Key         string
	Definition  flagsv1.Definition
	IfMatch     Precondition
	Author      Author
}

// PutFlag validates the definition (its targeting against the environment's evaluators)
// and stores it as the flag's next version. An identical definition is a no-op that
// returns the current version.
func (s *Service) PutFlag(ctx context.Context, cmd PutFlag) (Result, error) {
	if err := checkCommand(cmd.Environment, cmd.Key, cmd.Author); err != nil {
		return Result{}, err
	}
	def, err := domain.ValidateDefinition(cmd.Definition)
	if err != nil {
		return Result{}, err
	}
	m := s.meta(cmd.Author, cmd.IfMatch)
	return s.apply(ctx, cmd.Environment, cmd.Key, func(current *domain.Flag, set domain.FlagSet) (*domain.Change, error) {
		return domain.Put(current, set, cmd.Environment, cmd.Key, def, m)
	})
}
