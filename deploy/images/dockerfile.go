package images

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// BuildStageName is the Dockerfile stage that compiles the binary.
const BuildStageName = "build"

// Dockerfile is a parsed Dockerfile, by BuildKit's own parser: what `docker build` reads.
// Expanding a command changes it, so parse once per use.
type Dockerfile struct {
	Path     string
	Stages   []instructions.Stage
	MetaArgs []instructions.ArgCommand
	// Warnings are the parser's and BuildKit's lint rules' findings (`docker build --check`).
	Warnings []string
}

// ParseDockerfile reads and parses the Dockerfile at path.
func ParseDockerfile(path string) (*Dockerfile, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read Dockerfile: %w", err)
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	d := &Dockerfile{Path: path}
	for _, w := range res.Warnings {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s: %s", locate(w.Location), w.Short))
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		var at *parser.Range
		if len(loc) > 0 {
			at = &loc[0]
		}
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s: %s: %s", locate(at), rule, msg))
	}})
	d.Stages, d.MetaArgs, err = instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(d.Stages) == 0 {
		return nil, fmt.Errorf("%s has no stage", path)
	}
	return d, nil
}

func locate(r *parser.Range) string {
	if r == nil {
		return "line ?"
	}
	return fmt.Sprintf("line %d", r.Start.Line)
}

// Stage returns the stage called name.
func (d *Dockerfile) Stage(name string) (*instructions.Stage, bool) {
	for i := range d.Stages {
		if strings.EqualFold(d.Stages[i].Name, name) {
			return &d.Stages[i], true
		}
	}
	return nil, false
}

// Final is the last stage: the image.
func (d *Dockerfile) Final() *instructions.Stage { return &d.Stages[len(d.Stages)-1] }

// ArgDefaults are the ARG declarations of stage with their defaults as BuildKit expands them
// (quotes removed, earlier ARGs substituted); nil means no default.
func ArgDefaults(stage *instructions.Stage) (map[string]*string, error) {
	out := map[string]*string{}
	known := map[string]string{}
	for _, c := range stage.Commands {
		a, ok := c.(*instructions.ArgCommand)
		if !ok {
			continue
		}
		for _, kv := range a.Args {
			if kv.Value == nil {
				out[kv.Key] = nil
				continue
			}
			v, err := dockerExpander(known)(*kv.Value)
			if err != nil {
				return nil, fmt.Errorf("ARG %s: %w", kv.Key, err)
			}
			out[kv.Key], known[kv.Key] = &v, v
		}
	}
	return out, nil
}

// GoBuild is a go build command line: its environment assignments and its arguments after "go".
type GoBuild struct {
	Env  map[string]string
	Args []string
}

// Output is the -o argument.
func (g GoBuild) Output() string {
	for i, a := range g.Args {
		if a == "-o" && i+1 < len(g.Args) {
			return g.Args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "-o="); ok {
			return v
		}
	}
	return ""
}

// Normalized is the command line without its output path and without an empty -tags, in the
// form that decides what is built: two lines with equal Normalized build the same binary.
func (g GoBuild) Normalized() []string {
	var out []string
	for i := 0; i < len(g.Args); i++ {
		a := g.Args[i]
		if strings.HasPrefix(a, "--") {
			a = a[1:] // -flag and --flag are the same flag
		}
		switch {
		case a == "-o":
			i++
		case strings.HasPrefix(a, "-o="):
		case a == "-tags" && i+1 < len(g.Args):
			if g.Args[i+1] != "" {
				out = append(out, "-tags="+g.Args[i+1])
			}
			i++
		case a == "-tags=":
		default:
			out = append(out, a)
		}
	}
	return out
}

// GoBuild finds the build stage's go build RUN line and expands it as the shell in the build
// container would, with the stage's ARG defaults overridden by args (e.g. GO_TAGS, TARGETOS).
func (d *Dockerfile) GoBuild(args map[string]string) (GoBuild, error) {
	stage, ok := d.Stage(BuildStageName)
	if !ok {
		return GoBuild{}, fmt.Errorf("%s has no stage named %q", d.Path, BuildStageName)
	}
	env, err := stageArgs(stage, args)
	if err != nil {
		return GoBuild{}, fmt.Errorf("%s: %w", d.Path, err)
	}
	var found []GoBuild
	for _, c := range stage.Commands {
		run, ok := c.(*instructions.RunCommand)
		if !ok || !run.PrependShell {
			continue
		}
		cmds, err := ShellCommands(strings.Join(run.CmdLine, " "), env)
		if err != nil {
			return GoBuild{}, fmt.Errorf("%s: RUN %s: %w", d.Path, strings.Join(run.CmdLine, " "), err)
		}
		for _, cmd := range cmds {
			if len(cmd.Args) >= 2 && cmd.Args[0] == "go" && cmd.Args[1] == "build" {
				found = append(found, GoBuild{Env: cmd.Assign, Args: cmd.Args[1:]})
			}
		}
	}
	if len(found) != 1 {
		return GoBuild{}, fmt.Errorf("%s: stage %q has %d go build commands, want exactly 1", d.Path, BuildStageName, len(found))
	}
	return found[0], nil
}

// BuildStageDirs are the directories the build stage creates with `mkdir -p` (COPY sources
// the final stage may take besides the binary).
func (d *Dockerfile) BuildStageDirs() ([]string, error) {
	stage, ok := d.Stage(BuildStageName)
	if !ok {
		return nil, fmt.Errorf("%s has no stage named %q", d.Path, BuildStageName)
	}
	env, err := stageArgs(stage, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Path, err)
	}
	var dirs []string
	for _, c := range stage.Commands {
		run, ok := c.(*instructions.RunCommand)
		if !ok || !run.PrependShell {
			continue
		}
		cmds, err := ShellCommands(strings.Join(run.CmdLine, " "), env)
		if err != nil {
			return nil, fmt.Errorf("%s: RUN %s: %w", d.Path, strings.Join(run.CmdLine, " "), err)
		}
		for _, cmd := range cmds {
			if len(cmd.Args) > 2 && cmd.Args[0] == "mkdir" && cmd.Args[1] == "-p" {
				dirs = append(dirs, cmd.Args[2:]...)
			}
		}
	}
	return dirs, nil
}

// stageArgs are the values of a stage's ARGs: args where given, else the declared default.
// BuildKit's automatic platform ARGs default to the images' platform.
func stageArgs(stage *instructions.Stage, args map[string]string) (map[string]string, error) {
	defaults, err := ArgDefaults(stage)
	if err != nil {
		return nil, err
	}
	auto := map[string]string{
		"TARGETOS": OS, "TARGETARCH": Arch, "TARGETPLATFORM": OS + "/" + Arch,
		"BUILDOS": OS, "BUILDARCH": Arch, "BUILDPLATFORM": OS + "/" + Arch,
	}
	env := map[string]string{}
	for k, def := range defaults {
		switch v, given := args[k]; {
		case given:
			env[k] = v
		case def != nil:
			env[k] = *def
		default:
			if a, ok := auto[k]; ok {
				env[k] = a
			}
		}
	}
	return env, nil
}

// ShellCommand is one simple command of a shell line, expanded: its variable assignments and
// its words.
type ShellCommand struct {
	Assign map[string]string
	Args   []string
}

// ShellCommands parses line as a POSIX shell would (quotes, "$VAR" that is empty stays an
// argument) and expands it with env; an unset variable is an error (set -u). Lines are
// commands joined by && or ;, nothing else.
func ShellCommands(line string, env map[string]string) ([]ShellCommand, error) {
	file, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(line), "")
	if err != nil {
		return nil, fmt.Errorf("parse shell: %w", err)
	}
	var pairs []string
	for k, v := range env {
		pairs = append(pairs, k+"="+v)
	}
	slices.Sort(pairs)
	cfg := &expand.Config{Env: expand.ListEnviron(pairs...), NoUnset: true}
	var out []ShellCommand
	var walk func(c syntax.Command) error
	walk = func(c syntax.Command) error {
		switch c := c.(type) {
		case *syntax.CallExpr:
			sc := ShellCommand{Assign: map[string]string{}}
			for _, a := range c.Assigns {
				v, err := expand.Literal(cfg, a.Value)
				if err != nil {
					return fmt.Errorf("expand %s: %w", a.Name.Value, err)
				}
				sc.Assign[a.Name.Value] = v
			}
			args, err := expand.Fields(cfg, c.Args...)
			if err != nil {
				return fmt.Errorf("expand: %w", err)
			}
			sc.Args = args
			out = append(out, sc)
			return nil
		case *syntax.BinaryCmd:
			if c.Op != syntax.AndStmt {
				return fmt.Errorf("unsupported shell operator %s", c.Op)
			}
			if err := walk(c.X.Cmd); err != nil {
				return err
			}
			return walk(c.Y.Cmd)
		default:
			return fmt.Errorf("unsupported shell command %T", c)
		}
	}
	for _, st := range file.Stmts {
		if err := walk(st.Cmd); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dockerExpander expands a Dockerfile word (LABEL, ENV, COPY, USER ...) the way BuildKit does.
func dockerExpander(env map[string]string) instructions.SingleWordExpander {
	lex := shell.NewLex(parser.DefaultEscapeToken)
	var pairs []string
	for k, v := range env {
		pairs = append(pairs, k+"="+v)
	}
	getter := shell.EnvsFromSlice(pairs)
	return func(word string) (string, error) {
		out, _, err := lex.ProcessWord(word, getter)
		return out, err
	}
}

// MakeGoBuild is the go build line `make <target>` runs in the repository at root, as
// `make -n` prints it.
func MakeGoBuild(root, target string) (GoBuild, error) {
	cmd := exec.Command("make", "-s", "-n", "--no-print-directory", "-C", root, target)
	out, err := cmd.Output()
	if err != nil {
		return GoBuild{}, fmt.Errorf("make -n %s: %w", target, err)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var found []GoBuild
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		cmds, err := ShellCommands(line, env)
		if err != nil {
			continue // not a simple command: not the go build line
		}
		for _, c := range cmds {
			if len(c.Args) >= 2 && filepath.Base(c.Args[0]) == "go" && c.Args[1] == "build" {
				found = append(found, GoBuild{Env: c.Assign, Args: c.Args[1:]})
			}
		}
	}
	if len(found) != 1 {
		return GoBuild{}, fmt.Errorf("make -n %s runs %d go build commands, want 1:\n%s", target, len(found), out)
	}
	return found[0], nil
}
