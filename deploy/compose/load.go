package compose

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// Load reads a compose file as `docker compose config` would, minus the machine's state:
// schema validation, interpolation from env only (neither the process environment nor a
// .env file is consulted, so the result does not depend on who runs it), normalisation,
// consistency checks (e.g. depends_on naming a missing service) and paths resolved
// against workDir, the project directory.
func Load(ctx context.Context, file, workDir string, env map[string]string) (*types.Project, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("compose file path %s: %w", file, err)
	}
	vars := make([]string, 0, len(env))
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	sort.Strings(vars)
	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(workDir),
		cli.WithEnv(vars),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, fmt.Errorf("compose options for %s: %w", file, err)
	}
	project, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	return project, nil
}
