package app

import (
	"context"

	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
)

// ArchiveFlag takes a flag out of evaluation; its history is kept.
type ArchiveFlag struct {
	Environment string
	Key         string
	IfMatch     Precondition
	Author      Author
}

// ArchiveFlag archives a flag; archiving an archived flag is a no-op.
func (s *Service) ArchiveFlag(ctx context.Context, cmd ArchiveFlag) (Result, error) {
	if err := checkCommand(cmd.Environment, cmd.Key, cmd.Author); err != nil {
		return Result{}, err
	}
	m := s.meta(cmd.Author, cmd.IfMatch)
	return s.apply(ctx, cmd.Environment, cmd.Key, func(current *domain.Flag, set domain.FlagSet) (*domain.Change, error) {
		return domain.Archive(current, set, cmd.Environment, cmd.Key, m)
	})
}
