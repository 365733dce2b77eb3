package architecture

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestRepositoryFollowsArchitecture(t *testing.T) {
	root := repoRoot(t)
	modulePath := readModulePath(t, root)

	violations, err := Check(root, modulePath)
	for _, v := range violations {
		t.Errorf("%s", v)
	}
	if err != nil {
		t.Errorf("check %s: %v", root, err)
	}
	if len(violations) > 0 {
		t.Logf("%d violation(s); rules and exceptions are explained in architecture/doc.go", len(violations))
	}
}

// shape is the top-level layout of ARCHITECTURE.md ("## Shape") and whether each folder
// holds Go code of this module.
var shape = []struct {
	dir    string
	goCode bool
}{
	{"cmd", true},
	{"modules", true},
	{"contracts", true},
	{"platform", true},
	{"sdk", true}, // its own Go module: skipped, not a layer
	{"migrations", true},
	{"deploy", true}, // its own Go module (deploy checks): skipped, not a layer
}

func TestShapeFoldersAreKnownLayers(t *testing.T) {
	for _, s := range shape {
		_, layer := layers[s.dir]
		skipped := skippedTopLevel[s.dir]
		switch {
		case s.goCode && !layer && !skipped:
			t.Errorf("%s/ holds Go code but is neither a layer nor skipped by the checker", s.dir)
		case !s.goCode && (layer || skipped):
			t.Errorf("%s/ holds no Go code but the checker accepts Go there; it should be reported as %s", s.dir, RuleUnknownLayer)
		case layer && skipped:
			t.Errorf("%s/ is both a layer and skipped", s.dir)
		}
	}
}

// TestShapeMatchesDesignDoc keeps the shape table above in step with ARCHITECTURE.md,
// which lives in the shared design folder beside the repository (../shared) or in it.
func TestShapeMatchesDesignDoc(t *testing.T) {
	root := repoRoot(t)
	var doc []byte
	for _, p := range []string{"ARCHITECTURE.md", "docs/ARCHITECTURE.md", "../shared/ARCHITECTURE.md"} {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err == nil {
			doc = b
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("read %s: %v", p, err)
		}
	}
	if doc == nil {
		t.Skip("ARCHITECTURE.md not found (looked at the root, docs/ and ../shared/)")
	}

	got := shapeDirs(doc)
	if len(got) == 0 {
		t.Fatal(`ARCHITECTURE.md has no "## Shape" code block with folders`)
	}
	var want []string
	for _, s := range shape {
		want = append(want, s.dir)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("top-level folders in ARCHITECTURE.md's shape = %v, shape table in this test = %v", got, want)
	}
}

func TestDocNamesEveryRuleAndLayer(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatalf("read doc.go: %v", err)
	}
	for _, id := range ruleIDs() {
		if !bytes.Contains(doc, []byte("  - "+id+":")) {
			t.Errorf("doc.go does not explain rule %s", id)
		}
	}
	for layer := range layers {
		if !bytes.Contains(doc, []byte(layer)) {
			t.Errorf("doc.go does not name layer %s", layer)
		}
	}
	for _, e := range exceptions {
		if !bytes.Contains(doc, []byte("("+e.rule+")")) {
			t.Errorf("doc.go does not list the exception to %s (%s)", e.rule, e.why)
		}
	}
}

// shapeDirs returns the top-level folders named in the first code block after "## Shape".
func shapeDirs(markdown []byte) []string {
	var (
		dirs    []string
		seen    = map[string]bool{}
		inShape bool
		inBlock bool
	)
	sc := bufio.NewScanner(bytes.NewReader(markdown))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			if inShape && len(dirs) > 0 {
				return dirs
			}
			inShape = strings.TrimSpace(line) == "## Shape"
		case inShape && strings.HasPrefix(line, "```"):
			if inBlock {
				return dirs
			}
			inBlock = true
		case inBlock:
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			dir, _, _ := strings.Cut(fields[0], "/")
			if dir != "" && !seen[dir] {
				seen[dir] = true
				dirs = append(dirs, dir)
			}
		}
	}
	return dirs
}

// repoRoot walks up from the package directory to the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the architecture package")
		}
		dir = parent
	}
}

func readModulePath(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatalf("read go.mod: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	t.Fatal("go.mod has no module line")
	return ""
}

func TestShapeDirs(t *testing.T) {
	const doc = "# Title\n\n## Shape\n\n```\n" +
		"cmd/switchyard          composition root\n" +
		"modules/flags           COMMAND module\n" +
		"modules/evaluation      READ module\n" +
		"contracts/              shared\n" +
		"\n" +
		"migrations/<module>/    schemas\n" +
		"```\n\nRules that keep modules/ extractable:\n\n```\nnot/this\n```\n\n## Next\n\n```\nnor/this\n```\n"
	got := shapeDirs([]byte(doc))
	want := []string{"cmd", "modules", "contracts", "migrations"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("shapeDirs = %v, want %v", got, want)
	}
	if got := shapeDirs([]byte("# no shape here\n```\ncmd/x\n```\n")); len(got) != 0 {
		t.Errorf("shapeDirs without a Shape section = %v, want none", got)
	}
}
