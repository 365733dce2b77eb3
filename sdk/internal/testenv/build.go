package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RepoRoot returns the repository's root: the first directory up from the working
// directory whose go.mod declares github.com/switchyardhq/switchyard.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/switchyardhq/switchyard\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: the repository root (go.mod of github.com/switchyardhq/switchyard) is not above the working directory")
		}
		dir = parent
	}
}

// BuildServer builds cmd/switchyard into dir and returns the binary's path. The Go
// build cache makes a second build in another test binary cheap.
func BuildServer(dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "switchyard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/switchyard")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("testenv: go build ./cmd/switchyard in %s: %w\n%s", root, err, out.String())
	}
	return bin, nil
}

// RunWithServer is a test package's TestMain body for tests that run Switchyard: it
// builds the server into a temporary directory, stores the binary's path in *bin, runs
// the tests, removes the directory and exits with the tests' code.
func RunWithServer(m *testing.M, bin *string) {
	dir, err := os.MkdirTemp("", "switchyard-sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *bin, err = BuildServer(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}
