package pipeline

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Workflow is the part of a GitHub Actions workflow (or a composite action's runs section)
// the rules read.
type Workflow struct {
	Permissions any             `yaml:"permissions"`
	Jobs        map[string]*Job `yaml:"jobs"`
}

// Job is one workflow job.
type Job struct {
	Needs       StringList `yaml:"needs"`
	If          string     `yaml:"if"`
	Environment any        `yaml:"environment"`
	Permissions any        `yaml:"permissions"`
	Steps       []Step     `yaml:"steps"`
}

// Step is one job step.
type Step struct {
	Uses string `yaml:"uses"`
	Run  string `yaml:"run"`
}

// Action is a local composite action (action.yaml).
type Action struct {
	Runs struct {
		Steps []Step `yaml:"steps"`
	} `yaml:"runs"`
}

// StringList decodes a YAML scalar or sequence of strings (needs: a | needs: [a, b]).
type StringList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = []string{n.Value}
		return nil
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		*s = list
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// LoadWorkflow decodes a workflow file.
func LoadWorkflow(path string) (*Workflow, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read workflow: %w", err)
	}
	var w Workflow
	if err := yaml.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("decode workflow %s: %w", path, err)
	}
	if len(w.Jobs) == 0 {
		return nil, fmt.Errorf("workflow %s has no jobs", path)
	}
	return &w, nil
}

// LoadAction decodes a local composite action.
func LoadAction(path string) (*Action, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read action: %w", err)
	}
	var a Action
	if err := yaml.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("decode action %s: %w", path, err)
	}
	return &a, nil
}

// Ancestors is every job a job waits for, directly or through the jobs it needs. A cycle or
// a need of a missing job is an error.
func (w *Workflow) Ancestors(job string) (map[string]bool, error) {
	seen := map[string]bool{}
	var visit func(name string, path []string) error
	// path is the chain of needs from job to name: "a <- b" reads "a needs b".
	visit = func(name string, path []string) error {
		for _, n := range w.Jobs[name].Needs {
			if _, ok := w.Jobs[n]; !ok {
				return fmt.Errorf("job %q (needed by %s) does not exist", n, strings.Join(path, " <- "))
			}
			if slices.Contains(path, n) {
				return fmt.Errorf("needs cycle: %s <- %s", strings.Join(path, " <- "), n)
			}
			seen[n] = true
			if err := visit(n, append(slices.Clone(path), n)); err != nil {
				return err
			}
		}
		return nil
	}
	if _, ok := w.Jobs[job]; !ok {
		return nil, fmt.Errorf("job %q does not exist", job)
	}
	if err := visit(job, []string{job}); err != nil {
		return nil, err
	}
	return seen, nil
}

// MakeTargets is every make target a job's run steps call, in order, without repeats.
func (j *Job) MakeTargets() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range j.Steps {
		for _, t := range MakeTargetsIn(s.Run) {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// commandSeparators split a shell script into simple commands (well enough for run: steps
// and .ci/run, which call make plainly).
var commandSeparators = regexp.MustCompile(`&&|\|\||[;|\n]|\bthen\b|\bdo\b`)

// shellComment is a comment to the end of its line (a # that starts a word).
var shellComment = regexp.MustCompile(`(?m)(^|\s)#.*$`)

// redirection starts a word that redirects input or output (>file, 2>&1, <in).
var redirection = regexp.MustCompile(`^[0-9]*[<>]`)

// commandPrefixes may precede the command of a simple command.
var commandPrefixes = []string{"time", "!", "exec", "if", "while", "until", "then", "do", "else"}

// MakeTargetsIn finds the targets of the make commands in a shell script: each simple command
// that is `make ...` (optionally after `time`), minus options and VAR=value assignments.
func MakeTargetsIn(script string) []string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	script = shellComment.ReplaceAllString(script, "")
	var targets []string
	for _, cmd := range commandSeparators.Split(script, -1) {
		fields := strings.Fields(cmd)
		for len(fields) > 0 && slices.Contains(commandPrefixes, fields[0]) {
			fields = fields[1:]
		}
		if len(fields) == 0 || (fields[0] != "make" && fields[0] != "$(MAKE)") {
			continue
		}
		skipNext := false
		for _, f := range fields[1:] {
			switch {
			case skipNext:
				skipNext = false
			case f == "-C" || f == "-f" || f == "-j" || redirection.MatchString(f) && strings.TrimLeft(f, "0123456789<>&") == "":
				skipNext = true // the option's argument, or the file of a bare redirection (> file)
			case strings.HasPrefix(f, "-"), strings.Contains(f, "="), redirection.MatchString(f):
			default:
				targets = append(targets, strings.Trim(f, `"'`))
			}
		}
	}
	return targets
}

// MakeDatabaseTargets lists every target make knows in dir (see MakeDatabase).
func MakeDatabaseTargets(dir string) (map[string]bool, error) {
	db, err := MakeDatabase(dir)
	if err != nil {
		return nil, err
	}
	targets := make(map[string]bool, len(db))
	for t := range db {
		targets[t] = true
	}
	return targets, nil
}

// MakeDatabase reads every target make knows in dir (the Makefile and every fragment it
// includes) with its prerequisites, from make's own database (make -pRrq), so that what
// counts is what make would run, not what a grep finds.
func MakeDatabase(dir string) (map[string][]string, error) {
	cmd := exec.Command("make", "-pRrq", "-f", "Makefile", ":")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// make exits non-zero here (":" is no target, -q asks whether it is up to date); the
	// database is printed before that, so only a missing database is an error.
	_ = cmd.Run()
	targets := map[string][]string{}
	inFiles, notTarget := false, false
	for _, line := range strings.Split(stdout.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "# Files"):
			inFiles = true
			continue
		case strings.HasPrefix(line, "# Finished Make data base"):
			inFiles = false
		case line == "# Not a target:":
			notTarget = true
			continue
		}
		if !inFiles {
			continue
		}
		// Special targets (.PHONY) and patterns (%.o) are not names a make command runs.
		if m := targetLine.FindStringSubmatch(line); m != nil && !notTarget &&
			!strings.HasPrefix(m[1], ".") && !strings.Contains(m[1], "%") {
			_, rest, _ := strings.Cut(line, ":")
			rest = strings.TrimPrefix(rest, ":")
			rest, _, _ = strings.Cut(rest, "|") // order-only prerequisites do not run the work
			targets[m[1]] = append(targets[m[1]], strings.Fields(rest)...)
		}
		if line == "" {
			notTarget = false
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("make -pRrq in %s printed no targets: %s", dir, stderr.String())
	}
	return targets, nil
}

// Closure is targets with every prerequisite make would run for them, transitively.
func Closure(targets []string, db map[string][]string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(t string) {
		if seen[t] {
			return
		}
		seen[t] = true
		for _, p := range db[t] {
			visit(p)
		}
	}
	for _, t := range targets {
		visit(t)
	}
	return seen
}

var targetLine = regexp.MustCompile(`^([A-Za-z0-9_.%/-]+):{1,2}(?:\s|$)`)

// sortedKeys lists a set's members in order.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
