package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBuildTagsLinkOnlyTheirModules proves, from the build graph itself, which modules
// each image links: the read image has no command-side module and the command image no
// read-side one, so the two sides deploy and scale apart from the same code.
func TestBuildTagsLinkOnlyTheirModules(t *testing.T) {
	tests := []struct {
		tags      string
		linked    []string
		notLinked []string
	}{
		{"", []string{"flags", "evaluation", "audit"}, nil},
		{"command", []string{"flags", "audit"}, []string{"evaluation"}},
		{"read", []string{"evaluation"}, []string{"flags", "audit"}},
	}
	for _, tc := range tests {
		t.Run("tags="+tc.tags, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-tags", tc.tags, ".").CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			deps := map[string]bool{}
			for _, line := range strings.Fields(string(out)) {
				deps[line] = true
			}
			const modules = "github.com/switchyardhq/switchyard/modules/"
			for _, m := range tc.linked {
				if !deps[modules+m] {
					t.Errorf("tags %q: %s is not linked", tc.tags, m)
				}
			}
			for _, m := range tc.notLinked {
				for dep := range deps {
					if dep == modules+m || strings.HasPrefix(dep, modules+m+"/") {
						t.Errorf("tags %q links %s", tc.tags, dep)
					}
				}
			}
		})
	}
}

// TestBothSideTagsTogetherDoNotBuild keeps the tags exclusive: a binary is the command
// side, the read side, or the monolith.
func TestBothSideTagsTogetherDoNotBuild(t *testing.T) {
	out, err := exec.Command("go", "build", "-tags", "command read", "-o", t.TempDir()+"/x", ".").CombinedOutput()
	if err == nil {
		t.Fatal("building with both tags succeeded")
	}
	if !strings.Contains(string(out), "build with -tags command or -tags read, not both") {
		t.Fatalf("the build error does not say why:\n%s", out)
	}
}
