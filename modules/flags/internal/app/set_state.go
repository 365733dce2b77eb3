package app

import (
	"context"

	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
)

// SetState enables or disables a flag.
type SetState struct {
	Environment string
	Key         string
	State       string
	IfMatch     Precondition
	Author      Author
}

// SetState changes a live flag's state; setting the current state is a no-op.
func (s *Service) SetState(ctx context.Context, cmd SetState) (Result, error) {
	if err := checkCommand(cmd.Environment, cmd.Key, cmd.Author); err != nil {
		return Result{}, err
	}
	m := s.meta(cmd.Author, cmd.IfMatch)
	return s.apply(ctx, cmd.Environment, cmd.Key, func(current *domain.Flag, set domain.FlagSet) (*domain.Change, error) {
		return domain.SetState(current, set, cmd.Environment, cmd.Key, cmd.State, m)
	})
}
