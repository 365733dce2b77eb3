package k8s

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// KustomizeEnv names a kustomize binary to render with; without it, `kubectl kustomize`
// from PATH is used.
const KustomizeEnv = "SWITCHYARD_KUSTOMIZE"

// Renderer renders a kustomization directory to multi-document YAML.
type Renderer struct {
	// Argv is the command before the directory, e.g. ["kubectl", "kustomize"].
	Argv []string
}

// FindRenderer returns the kustomize named by SWITCHYARD_KUSTOMIZE, or else kubectl's
// built-in one, or an error that says how to get either.
func FindRenderer() (Renderer, error) {
	if path := os.Getenv(KustomizeEnv); path != "" {
		if _, err := os.Stat(path); err != nil {
			return Renderer{}, fmt.Errorf("%s=%s: %w", KustomizeEnv, path, err)
		}
		return Renderer{Argv: []string{path, "build"}}, nil
	}
	if path, err := exec.LookPath("kubectl"); err == nil {
		return Renderer{Argv: []string{path, "kustomize"}}, nil
	}
	return Renderer{}, errors.New("no kustomize: install kubectl, or run `make k8s-render-test`, " +
		"which installs the pinned kustomize and sets " + KustomizeEnv)
}

// Render runs kustomize on dir and returns its output.
func (r Renderer) Render(ctx context.Context, dir string) ([]byte, error) {
	args := append(append([]string{}, r.Argv[1:]...), dir)
	cmd := exec.CommandContext(ctx, r.Argv[0], args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", r.Argv[0], strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
