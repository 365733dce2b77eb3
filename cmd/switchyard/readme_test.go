//go:build !command && !read

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeWalkthroughRunsVerbatim runs README's walk-through, as written, with bash and
// curl against a server started the way `make run` starts it (no configured tokens, so a
// development token is generated into data/dev-admin-token).
func TestReadmeWalkthroughRunsVerbatim(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script := walkthrough(t, string(readme))

	work := t.TempDir()
	s := startServer(t, filepath.Join(work, "data"), map[string]string{"SWITCHYARD_ADMIN_TOKENS": ""})
	script = strings.ReplaceAll(script, "http://localhost:8080", s.base)

	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walk-through failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		`"key":"new-banner","version":1`,
		`"reason":"STATIC","variant":"on","value":true`,
		`"version":2`,
		`"reason":"DISABLED"`,
		`"action":"flag.state_changed"`,
		`"actor":"dev"`,
		`"reason":"incident 42"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("walk-through output lacks %s:\n%s", want, out)
		}
	}
}

func walkthrough(t *testing.T, readme string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "<!-- walkthrough:start -->")
	block, _, ok2 := strings.Cut(rest, "<!-- walkthrough:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no walkthrough markers")
	}
	block = strings.TrimSpace(block)
	block = strings.TrimPrefix(block, "```sh")
	block = strings.TrimSuffix(block, "```")
	if !strings.Contains(block, "curl") {
		t.Fatal("README walk-through has no curl commands")
	}
	return block
}
