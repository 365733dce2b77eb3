// Package yamlcase writes broken variants of a real YAML file for the deploy checks'
// tests: the rules must catch each variant, and a variant that no longer applies to the
// file (its path is gone) fails the test rather than passing unnoticed.
package yamlcase

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Write decodes raw, lets mutate break the document, and writes the result as name in a
// temporary directory of t, returning its path.
func Write(t testing.TB, raw []byte, name string, mutate func(doc map[string]any) error) string {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if err := mutate(doc); err != nil {
		t.Fatalf("the case no longer applies to %s: %v", name, err)
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
