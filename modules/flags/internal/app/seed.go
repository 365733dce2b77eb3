package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
)

var errAlreadySeeded = errors.New("environment already has flags")

// SeedIfEmpty imports a flagd flag file into env when env has never had a flag, in one
// transaction, one audited change per flag. It returns how many flags it created.
func (s *Service) SeedIfEmpty(ctx context.Context, env string, file []byte, author Author) (int, error) {
	if err := domain.ValidateEnvironment(env); err != nil {
		return 0, err
	}
	if err := author.validate(); err != nil {
		return 0, err
	}
	parsed, err := ParseFlagFile(file)
	if err != nil {
		return 0, fmt.Errorf("parse seed file: %w", err)
	}
	if len(parsed.Flags) == 0 {
		return 0, fmt.Errorf("seed file: the flag file defines no flags")
	}
	res, err := s.importFile(ctx, env, parsed, domain.ImportOptions{}, false, author, func(e domain.Environment) error {
		if e.Exists {
			return errAlreadySeeded
		}
		return nil
	})
	if errors.Is(err, errAlreadySeeded) {
		return 0, nil
	}
	created := len(res.Plan.Changes)
	if err != nil {
		return created, fmt.Errorf("seed file: %w", err)
	}
	return created, nil
}
