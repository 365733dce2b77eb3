package architecture

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Violation is one break of a rule: an import a rule forbids, or (RuleUnknownLayer, with
// an empty Import and a zero Line) a Go package outside the known layers.
type Violation struct {
	Rule    string // stable rule ID, one of the Rule* constants
	File    string // file, slash-separated and relative to the checked root
	Line    int    // line of the import spec; 0 for package-level rules
	Package string // directory of the importing package, relative to the root ("." for the root)
	Import  string // imported path; empty for package-level rules
	Message string // what the rule demands
}

// String formats v as "file:line: [rule] imports "path": message".
func (v Violation) String() string {
	if v.Import == "" {
		return fmt.Sprintf("%s: [%s] package %s: %s", v.File, v.Rule, v.Package, v.Message)
	}
	return fmt.Sprintf("%s:%d: [%s] imports %q: %s", v.File, v.Line, v.Rule, v.Import, v.Message)
}

// location places a package inside the repository.
type location struct {
	rel    string // slash path relative to the root; "" for the root package
	layer  string // first segment of rel
	module string // for layer modules: the module's name, the second segment ("" for modules/ itself)
}

// importer is a file that imports: its package's location, and whether it is a test file.
type importer struct {
	location
	test bool
}

func locate(rel string) location {
	if rel == "." {
		rel = ""
	}
	segs := strings.Split(rel, "/")
	loc := location{rel: rel, layer: segs[0]}
	if loc.layer == layerModules && len(segs) > 1 {
		loc.module = segs[1]
	}
	return loc
}

// Check reads the imports of every Go file under root, test files included, and returns
// the violations of the rules, sorted by file and line. modulePath is the module path
// of root's go.mod; imports outside it are standard library or third-party and allowed.
//
// Only import clauses are parsed, so the tree need not compile. Build constraints are
// ignored: every file counts, whatever its tags. Directories named testdata or vendor,
// hidden or _-prefixed ones, and the top-level sdk/ are skipped. When some files cannot be
// parsed, Check returns the violations found in the others together with an error
// naming every such file.
func Check(root, modulePath string) ([]Violation, error) {
	if modulePath == "" {
		return nil, errors.New("check architecture: empty module path")
	}
	files, err := goFiles(root)
	if err != nil {
		return nil, fmt.Errorf("check architecture: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("check architecture: no Go files under %s", root)
	}

	var (
		violations []Violation
		parseErrs  []error
		seenDirs   = map[string]bool{}
		fset       = token.NewFileSet()
	)
	for _, rel := range files {
		dir := path.Dir(rel)
		from := importer{location: locate(dir), test: strings.HasSuffix(rel, "_test.go")}
		if !seenDirs[dir] {
			seenDirs[dir] = true
			if _, ok := layers[from.layer]; !ok {
				violations = append(violations, unknownLayer(rel, dir, from.layer))
			}
		}

		f, err := parser.ParseFile(fset, filepath.Join(root, filepath.FromSlash(rel)), nil, parser.ImportsOnly)
		if err != nil {
			parseErrs = append(parseErrs, err)
			continue
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				parseErrs = append(parseErrs, fmt.Errorf("%s: import %s: %w", rel, spec.Path.Value, err))
				continue
			}
			to, internal := inRepo(imp, modulePath)
			if !internal {
				continue
			}
			if r, broken := firstBroken(from, to); broken {
				violations = append(violations, Violation{
					Rule:    r.id,
					File:    rel,
					Line:    fset.Position(spec.Pos()).Line,
					Package: dir,
					Import:  imp,
					Message: r.text,
				})
			}
		}
	}

	sort.SliceStable(violations, func(i, j int) bool {
		a, b := violations[i], violations[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	if len(parseErrs) > 0 {
		return violations, fmt.Errorf("check architecture: parse imports: %w", errors.Join(parseErrs...))
	}
	return violations, nil
}

// firstBroken returns the first rule, in table order, that forbids from importing to.
func firstBroken(from importer, to location) (rule, bool) {
	for _, r := range importRules {
		if r.applies(from) && !r.allows(from, to) && !excepted(r.id, from, to) {
			return r, true
		}
	}
	return rule{}, false
}

// inRepo locates imp inside the repository, or reports that it is not a package of modulePath.
func inRepo(imp, modulePath string) (location, bool) {
	if imp == modulePath {
		return locate(""), true
	}
	rest, ok := strings.CutPrefix(imp, modulePath+"/")
	if !ok {
		return location{}, false
	}
	return locate(rest), true
}

func unknownLayer(file, dir, layer string) Violation {
	where := fmt.Sprintf("top-level folder %q is not a known layer", layer)
	if layer == "" {
		where = "a Go package at the repository root is not in a layer"
	}
	return Violation{
		Rule:    RuleUnknownLayer,
		File:    file,
		Package: dir,
		Message: where + ": " + unknownLayerText,
	}
}

// goFiles lists the Go files under root that the go tool would consider part of the
// module, as slash paths relative to root, in lexical order.
func goFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("relative path of %s: %w", p, err)
		}
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if skipDir(rel, name) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasSuffix(name, ".go") && !ignoredName(name) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	return files, nil
}

func skipDir(rel, name string) bool {
	return name == "testdata" || name == "vendor" || ignoredName(name) ||
		(!strings.Contains(rel, "/") && skippedTopLevel[name])
}

// ignoredName reports the names the go tool ignores: hidden and _-prefixed.
func ignoredName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}
