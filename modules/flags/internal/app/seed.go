package app

import (
	"context"
	"fmt"

	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/platform/httpx"
)

// SeedIfEmpty loads a flagd flag file into env when env has never had a flag, one
// audited change per flag. It returns how many flags it created. The whole file is
// validated before the first flag is written.
func (s *Service) SeedIfEmpty(ctx context.Context, env string, file []byte, author Author) (int, error) {
	if err := domain.ValidateEnvironment(env); err != nil {
		return 0, err
	}
	var parsed domain.FlagFile
	if err := httpx.DecodeStrict(file, &parsed); err != nil {
		return 0, fmt.Errorf("parse seed file: %w", err)
	}
	parsed, err := domain.ValidateFlagFile(parsed)
	if err != nil {
		return 0, fmt.Errorf("seed file: %w", err)
	}
	exists, err := s.store.EnvironmentExists(ctx, env)
	if err != nil || exists {
		return 0, err
	}
	created := 0
	for _, key := range parsed.Keys() {
		res, err := s.PutFlag(ctx, PutFlag{Environment: env, Key: key, Definition: parsed.Flags[key], Author: author})
		if res.Changed {
			created++
		}
		if err != nil {
			return created, fmt.Errorf("seed flag %s: %w", key, err)
		}
	}
	return created, nil
}
