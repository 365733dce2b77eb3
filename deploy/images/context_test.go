package images

import (
	"crypto/sha256"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// dockerignore reads the repository's .dockerignore, which BuildKit applies to the context
// of deploy/Dockerfile (there is no deploy/Dockerfile.dockerignore).
func dockerignore(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "deploy", "Dockerfile.dockerignore")); err == nil {
		t.Fatal("deploy/Dockerfile.dockerignore would replace .dockerignore: keep one ignore file")
	}
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return patterns
}

// contextFiles lists the files of the build context at root (slash-separated, relative) that
// the .dockerignore patterns let through, with BuildKit's matcher.
func contextFiles(root string, patterns []string) ([]string, error) {
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("dockerignore patterns: %w", err)
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		excluded, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if excluded && !mayReinclude(pm, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !excluded && d.Type().IsRegular() {
			files = append(files, rel)
		}
		return nil
	})
	return files, err
}

// mayReinclude reports whether an exception pattern (!...) could bring back something below
// the excluded directory dir.
func mayReinclude(pm *patternmatcher.PatternMatcher, dir string) bool {
	for _, p := range pm.Patterns() {
		if !p.Exclusion() {
			continue
		}
		s := p.String()
		if strings.ContainsAny(s, "*?[\\") || s == dir || strings.HasPrefix(s, dir+"/") {
			return true
		}
	}
	return false
}

// emulateBuildStage runs the Dockerfile's build stage on this machine against the context
// files: WORKDIR and COPY in a temporary root, RUN's go and mkdir commands as the stage's
// shell would expand them (absolute paths moved under the temporary root), so each command
// sees only what the Dockerfile copied before it, and go build only the context. It returns
// the temporary root; the binary is at root + the go build line's -o.
func emulateBuildStage(t *testing.T, d *Dockerfile, repo string, files []string, goTags string) (string, error) {
	t.Helper()
	stage, ok := d.Stage(BuildStageName)
	if !ok {
		return "", errors.New("no build stage")
	}
	env, err := stageArgs(stage, map[string]string{"GO_TAGS": goTags})
	if err != nil {
		return "", err
	}
	ctr := t.TempDir()
	under := func(p string) string { return filepath.Join(ctr, filepath.FromSlash(p)) }
	workdir := "/"
	for _, c := range stage.Commands {
		switch c := c.(type) {
		case *instructions.WorkdirCommand:
			workdir = path.Join(workdir, c.Path)
			if err := os.MkdirAll(under(workdir), 0o755); err != nil {
				return "", err
			}
		case *instructions.ArgCommand:
		case *instructions.CopyCommand:
			if c.From != "" {
				return "", fmt.Errorf("%s: copying from another stage is not emulated", c)
			}
			dest := c.DestPath
			if !path.IsAbs(dest) {
				dest = path.Join(workdir, dest) + map[bool]string{true: "/"}[strings.HasSuffix(c.DestPath, "/")]
			}
			for _, src := range c.SourcePaths {
				if err := copyFromContext(repo, files, path.Clean(src), dest, under); err != nil {
					return "", fmt.Errorf("%s: %w", c, err)
				}
			}
		case *instructions.RunCommand:
			cmds, err := ShellCommands(strings.Join(c.CmdLine, " "), env)
			if err != nil {
				return "", fmt.Errorf("%s: %w", c, err)
			}
			for _, sc := range cmds {
				if len(sc.Args) == 0 || (sc.Args[0] != "go" && sc.Args[0] != "mkdir") {
					return "", fmt.Errorf("%s: only go and mkdir commands are emulated", c)
				}
				args := slices.Clone(sc.Args)
				for i, a := range args {
					if path.IsAbs(a) {
						args[i] = under(a)
					}
				}
				cmd := exec.Command(args[0], args[1:]...)
				cmd.Dir = under(workdir)
				cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
				for k, v := range sc.Assign {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
				if out, err := cmd.CombinedOutput(); err != nil {
					return "", fmt.Errorf("RUN %s: %w\n%s", strings.Join(sc.Args, " "), err, out)
				}
			}
		default:
			return "", fmt.Errorf("%s: not emulated", c)
		}
	}
	return ctr, nil
}

// copyFromContext copies src ("." or a file) of the context to dest (absolute; a trailing
// slash means a directory) under the temporary root, as COPY does; src missing from the
// context (absent or ignored) fails like `docker build` does.
func copyFromContext(repo string, files []string, src, dest string, under func(string) string) error {
	var pairs [][2]string
	switch {
	case src == ".":
		for _, f := range files {
			pairs = append(pairs, [2]string{f, path.Join(dest, f)})
		}
	case slices.Contains(files, src):
		to := dest
		if strings.HasSuffix(dest, "/") {
			to = path.Join(dest, path.Base(src))
		}
		pairs = append(pairs, [2]string{src, to})
	default:
		return fmt.Errorf("%q is not in the build context (missing, or excluded by .dockerignore)", src)
	}
	for _, p := range pairs {
		if err := copyFile(filepath.Join(repo, filepath.FromSlash(p[0])), under(p[1])); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestBuildContext: the context .dockerignore leaves holds what the build stage needs and no
// more. The build stage, emulated, builds every variant from the context alone; the binary
// has the build information of
// the one `make` wrote (when `make test-images` built them), settings and dependencies alike.
func TestBuildContext(t *testing.T) {
	repo := repoRoot(t)
	files, err := contextFiles(repo, dockerignore(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, banned := range []string{".git/", "bin/", "tools/", "data/", "deploy/", "e2e/", "docs/", "contracts/pacts/"} {
			if strings.HasPrefix(f, banned) {
				t.Errorf("%s is in the build context", f)
			}
		}
		if strings.HasSuffix(f, "_test.go") {
			t.Errorf("%s (a test) is in the build context", f)
		}
	}
	for _, must := range []string{"go.mod", "go.sum", "contracts/go.mod", "cmd/switchyard/main.go"} {
		if !slices.Contains(files, must) {
			t.Errorf("%s is not in the build context", must)
		}
	}
	d, err := ParseDockerfile(dockerfilePath(t))
	if err != nil {
		t.Fatal(err)
	}
	withImages := os.Getenv("SWITCHYARD_IMAGES_DIR") != ""
	for _, v := range Variants {
		t.Run(v.Name, func(t *testing.T) {
			g, err := d.GoBuild(map[string]string{"GO_TAGS": v.GoTags})
			if err != nil {
				t.Fatal(err)
			}
			ctr, err := emulateBuildStage(t, d, repo, files, v.GoTags)
			if err != nil {
				t.Fatal(err)
			}
			got, err := buildinfo.ReadFile(filepath.Join(ctr, filepath.FromSlash(g.Output())))
			if err != nil {
				t.Fatal(err)
			}
			if !withImages {
				return
			}
			want, err := buildinfo.ReadFile(filepath.Join(repo, v.Binary))
			if err != nil {
				t.Fatal(err)
			}
			a, b := buildSummary(got), buildSummary(want)
			var diff []string
			for _, l := range a {
				if !slices.Contains(b, l) {
					diff = append(diff, "  Dockerfile only: "+l)
				}
			}
			for _, l := range b {
				if !slices.Contains(a, l) {
					diff = append(diff, "  make only:       "+l)
				}
			}
			if len(diff) > 0 {
				t.Fatalf("the Dockerfile's build differs from %s (make %s; stale if the source changed since `make images`):\n%s",
					v.Binary, v.MakeTarget, strings.Join(diff, "\n"))
			}
			// -trimpath builds are reproducible, and the build information does not record
			// -ldflags or -gcflags under -trimpath: without a VCS stamp, demand the same bytes.
			if slices.ContainsFunc(want.Settings, func(s debug.BuildSetting) bool { return strings.HasPrefix(s.Key, "vcs") }) {
				t.Logf("%s carries a VCS stamp the context cannot have: bytes not compared", v.Binary)
				return
			}
			if a, b := fileHash(t, filepath.Join(ctr, filepath.FromSlash(g.Output()))), fileHash(t, filepath.Join(repo, v.Binary)); a != b {
				t.Errorf("the Dockerfile's build (sha256 %s) is not byte for byte %s (sha256 %s): a flag the build information does not record (-ldflags, -gcflags) differs", a, v.Binary, b)
			}
		})
	}
}

func fileHash(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(data))
}

// buildSummary is what decides a binary's contents, from its build information: Go version,
// main package, every dependency and every build setting except the VCS stamp (the context
// has no .git).
func buildSummary(bi *buildinfo.BuildInfo) []string {
	out := []string{"go " + bi.GoVersion, "path " + bi.Path}
	for _, d := range bi.Deps {
		out = append(out, fmt.Sprintf("dep %s %s %s", d.Path, d.Version, d.Sum))
	}
	for _, s := range bi.Settings {
		if !strings.HasPrefix(s.Key, "vcs") {
			out = append(out, fmt.Sprintf("build %s=%s", s.Key, s.Value))
		}
	}
	return out
}

// TestBuildContextCatchesMissingFiles: the emulation fails where `docker build` would: a
// package directory or a replaced module's go.mod the ignore file drops, a COPY of a file the
// context lacks.
func TestBuildContextCatchesMissingFiles(t *testing.T) {
	repo := repoRoot(t)
	patterns := dockerignore(t)
	tests := []struct {
		name      string
		patterns  []string
		old, new  string // applied to deploy/Dockerfile
		wantInErr string
	}{
		{name: "migrations ignored", patterns: slices.DeleteFunc(slices.Clone(patterns), func(p string) bool { return strings.TrimSuffix(p, "/") == "!migrations" }),
			wantInErr: "migrations"},
		{name: "a replaced module's go.mod ignored", patterns: append(slices.Clone(patterns), "contracts/go.mod"),
			wantInErr: "contracts"},
		{name: "a file copied that the context lacks", patterns: patterns, old: "COPY . .", new: "COPY go.work ./\nCOPY . .",
			wantInErr: "go.work"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			df := dockerfilePath(t)
			if tc.old != "" {
				df = mutatedDockerfile(t, tc.old, tc.new)
			}
			d, err := ParseDockerfile(df)
			if err != nil {
				t.Fatal(err)
			}
			files, err := contextFiles(repo, tc.patterns)
			if err != nil {
				t.Fatal(err)
			}
			_, err = emulateBuildStage(t, d, repo, files, "read")
			if err == nil || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.wantInErr)
			}
		})
	}
}
