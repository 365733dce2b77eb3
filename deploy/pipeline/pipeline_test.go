package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchyardhq/switchyard/deploy/internal/yamlcase"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var (
	targetsOnce sync.Once
	targetsSet  map[string]bool
	targetsErr  error
)

// makeTargets is the repository's make database, read once per test binary.
func makeTargets(t *testing.T) map[string]bool {
	t.Helper()
	targetsOnce.Do(func() { targetsSet, targetsErr = MakeDatabaseTargets(repoRoot(t)) })
	if targetsErr != nil {
		t.Fatal(targetsErr)
	}
	return targetsSet
}

// localActions loads every composite action under .github/actions, keyed as a workflow uses it.
func localActions(t *testing.T) map[string]*Action {
	t.Helper()
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "actions", "*", "action.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]*Action{}
	for _, f := range files {
		a, err := LoadAction(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, filepath.Dir(f))
		actions["./"+filepath.ToSlash(rel)] = a
	}
	return actions
}

func mainWorkflowPath(t *testing.T) string {
	return filepath.Join(repoRoot(t), ".github", "workflows", "ci.yaml")
}

func TestWorkflowFollowsTheRules(t *testing.T) {
	w, err := LoadWorkflow(mainWorkflowPath(t))
	if err != nil {
		t.Fatal(err)
	}
	actions := localActions(t)
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			if strings.HasPrefix(s.Uses, "./") && actions[s.Uses] == nil {
				t.Errorf("a step uses %s, which is not a local action with an action.yaml", s.Uses)
			}
		}
	}
	for _, problem := range Check(w, actions, makeTargets(t)) {
		t.Errorf("ci.yaml: %s", problem)
	}
	for _, deploy := range []string{DeployReadJob, DeployCommandJob} {
		a, _ := w.Ancestors(deploy)
		t.Logf("%s waits for %v", deploy, sortedKeys(a))
	}
}

// Other workflows, if any, follow the rules every workflow follows.
func TestEveryWorkflowPinsActionsAndCallsRealTargets(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot(t), ".github", "workflows", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows (%v)", err)
	}
	for _, f := range files {
		if ext := filepath.Ext(f); ext != ".yaml" && ext != ".yml" {
			t.Errorf("%s: workflows end in .yaml or .yml (GitHub ignores anything else; make workflow-lint lints *.yaml)", f)
			continue
		}
		w, err := LoadWorkflow(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range CheckAny(w, nil, makeTargets(t)) {
			t.Errorf("%s: %s", filepath.Base(f), problem)
		}
	}
}

// .ci/run is the local truth: it runs the same make targets as the workflow's verification
// jobs, so a green local run predicts a green pipeline up to the publish and deploy steps.
func TestCIRunRunsTheWorkflowTargets(t *testing.T) {
	w, err := LoadWorkflow(mainWorkflowPath(t))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := MakeDatabase(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range CompareLocal(MakeTargetsIn(string(raw)), db, w) {
		t.Error(problem)
	}
}

func TestMakeTargetsIn(t *testing.T) {
	cases := []struct {
		script string
		want   []string
	}{
		{"make lint", []string{"lint"}},
		{"make build-command test-command", []string{"build-command", "test-command"}},
		{`make deploy-read COMMAND_IMAGE="$COMMAND_IMAGE" READ_IMAGE="$READ_IMAGE"`, []string{"deploy-read"}},
		{"time make test\necho done && make -j2 --no-print-directory contracts", []string{"test", "contracts"}},
		{"cd x; make -C deploy foo || make bar # then make baz", []string{"foo", "bar"}},
		{"make images \\\n  test-images", []string{"images", "test-images"}},
		{`echo "$GHCR_TOKEN" | docker login ghcr.io; make images-push IMAGE_TAG="sha-${GITHUB_SHA::12}"`, []string{"images-push"}},
		{"if ! make k8s-dry-run; then exit 1; fi", []string{"k8s-dry-run"}},
		{`make -s image-refs >>"$GITHUB_OUTPUT" 2>&1; make a > out.txt b`, []string{"image-refs", "a", "b"}},
		{`echo "== make nothing here"; cmake .`, nil},
	}
	for _, tc := range cases {
		if got := MakeTargetsIn(tc.script); !slices.Equal(got, tc.want) {
			t.Errorf("MakeTargetsIn(%q) = %q, want %q", tc.script, got, tc.want)
		}
	}
}

func TestMakeDatabaseTargets(t *testing.T) {
	dir := t.TempDir()
	mk := "all: a b\na:\n\techo a\nb c: ; echo $@\n%.o: %.c\n\tcc $<\nV := 1\n.PHONY: a\ninclude $(wildcard *.mk)\n"
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "frag.mk"), []byte("from-fragment:\n\ttrue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := MakeDatabaseTargets(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"all", "a", "b", "c", "from-fragment"} {
		if !got[want] {
			t.Errorf("target %s not found in %v", want, sortedKeys(got))
		}
	}
	for _, not := range []string{"d", "V", "%.o", ".PHONY"} {
		if got[not] {
			t.Errorf("%s reported as a target (not a rule, a pattern or a special target)", not)
		}
	}
	// The repository's own: the root Makefile's and the deploy fragments'.
	repo := makeTargets(t)
	for _, want := range []string{"build-command", "contracts", "test-integration", "workflow-lint", "test-pipeline", "compose-check", "test-command", "deploy-read"} {
		if !repo[want] {
			t.Errorf("repository target %s not found", want)
		}
	}
	if repo["no-such-target"] {
		t.Error("no-such-target reported as a target")
	}
}

// A mutation edits the decoded workflow; it fails when what it edits is absent, so a
// renamed job cannot turn a case into a silent pass.
type mutation func(doc map[string]any) error

func jobOf(doc map[string]any, name string) (map[string]any, error) {
	jobs, _ := doc["jobs"].(map[string]any)
	j, ok := jobs[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no job %s", name)
	}
	return j, nil
}

func setJob(job, key string, v any) mutation {
	return func(doc map[string]any) error {
		j, err := jobOf(doc, job)
		if err != nil {
			return err
		}
		if v == nil {
			if _, ok := j[key]; !ok {
				return fmt.Errorf("job %s has no %s", job, key)
			}
			delete(j, key)
			return nil
		}
		j[key] = v
		return nil
	}
}

// editStep replaces a field of the first step of job whose field contains old.
func editStep(job, field, old, replacement string) mutation {
	return func(doc map[string]any) error {
		j, err := jobOf(doc, job)
		if err != nil {
			return err
		}
		steps, _ := j["steps"].([]any)
		for _, s := range steps {
			step, _ := s.(map[string]any)
			if v, ok := step[field].(string); ok && strings.Contains(v, old) {
				step[field] = strings.Replace(v, old, replacement, 1)
				return nil
			}
		}
		return fmt.Errorf("job %s has no step whose %s contains %q", job, field, old)
	}
}

func setTop(key string, v any) mutation {
	return func(doc map[string]any) error {
		if _, ok := doc[key]; !ok {
			return fmt.Errorf("no top-level %s", key)
		}
		doc[key] = v
		return nil
	}
}

// Each rule is shown to catch the mistake it exists for, on a copy of ci.yaml with one
// thing broken.
func TestRulesCatchBrokenWorkflows(t *testing.T) {
	raw, err := os.ReadFile(mainWorkflowPath(t))
	if err != nil {
		t.Fatal(err)
	}
	targets, actions := makeTargets(t), localActions(t)
	cases := []struct {
		name   string
		mutate mutation
		want   []string
	}{
		{"command deploys without waiting for read", setJob("deploy-command", "needs", []any{"images"}),
			[]string{"job deploy-command does not need deploy-read: the read side deploys first"}},
		{"command deploys first", func(doc map[string]any) error {
			if err := setJob("deploy-command", "needs", []any{"images"})(doc); err != nil {
				return err
			}
			return setJob("deploy-read", "needs", []any{"images", "deploy-command"})(doc)
		}, []string{"job deploy-read waits for deploy-command: the read side deploys first"}},
		{"gate without the read side", setJob("contracts", "needs", []any{"command"}),
			[]string{"job contracts (the fan-in gate) does not need read directly",
				"job deploy-read does not wait for read", "job deploy-command does not wait for read"}},
		{"images skip the gate", setJob("images", "needs", []any{"lint", "shared", "integration", "k8s"}),
			[]string{"job images does not wait for contracts", "job deploy-read does not wait for command",
				"job deploy-command does not wait for contracts"}},
		{"deploy straight after lint", setJob("deploy-read", "needs", []any{"lint"}),
			[]string{"job deploy-read does not wait for images", "job deploy-read does not wait for contracts"}},
		{"sides in series", setJob("command", "needs", []any{"read"}),
			[]string{"job command waits for read: the sides must run in parallel"}},
		{"needs cycle", setJob("command", "needs", []any{"contracts"}), []string{"needs cycle"}},
		{"needs a missing job", setJob("contracts", "needs", []any{"command", "read", "lnt"}),
			[]string{`job "lnt" (needed by contracts) does not exist`}},
		{"gate does not verify the pacts", editStep("contracts", "run", "make contracts", "make contracts-consumer"),
			[]string{"job contracts does not run make contracts"}},
		{"read side skips its consumer pacts", editStep("read", "run", "make contracts-consumer-read", "make test-read"),
			[]string{"job read does not run make contracts-consumer-read"}},
		{"command side built without tags", editStep("command", "run", "make build-command", "make build"),
			[]string{"job command does not run make build-command"}},
		{"images not checked", editStep("images", "run", "make test-images", "make images"),
			[]string{"job images does not run make test-images"}},
		{"a target that does not exist", editStep("lint", "run", "make lint", "make lint-everything"),
			[]string{"job lint runs make lint-everything: no such target"}},
		{"deploy from the wrong job", editStep("deploy-read", "run", "make deploy-read", "make deploy-read deploy-command"),
			[]string{"job deploy-read runs make deploy-command, which only job deploy-command may run"}},
		{"push from the wrong job", editStep("contracts", "run", "make pact-publish", "make images-push"),
			[]string{"job contracts runs make images-push, which only job images may run"}},
		{"floating action tag", editStep("lint", "uses", "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "actions/checkout@v4"),
			[]string{"job lint uses actions/checkout@v4: pin the action by its full commit SHA"}},
		{"deploy without protection", setJob("deploy-read", "environment", nil),
			[]string{"job deploy-read has no environment"}},
		{"deploy on pull requests", setJob("deploy-command", "if", "always()"),
			[]string{`job deploy-command runs on "always()", not only on pushes to main`}},
		{"gate writes to the repository", setJob("contracts", "permissions", map[string]any{"contents": "write"}),
			[]string{"job contracts: permission contents: write"}},
		{"write-all by default", setTop("permissions", "write-all"),
			[]string{"workflow permissions are write-all"}},
		{"deploy job missing", func(doc map[string]any) error {
			jobs := doc["jobs"].(map[string]any)
			if _, ok := jobs["deploy-read"]; !ok {
				return fmt.Errorf("no deploy-read job")
			}
			delete(jobs, "deploy-read")
			return nil
		}, []string{"job deploy-read is missing", `job "deploy-read" (needed by deploy-command) does not exist`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := yamlcase.Write(t, raw, "ci.yaml", tc.mutate)
			w, err := LoadWorkflow(path)
			if err != nil {
				t.Fatal(err)
			}
			problems := Check(w, actions, targets)
			for _, want := range tc.want {
				if !containsSubstring(problems, want) {
					t.Errorf("no problem mentions %q; got:\n%s", want, strings.Join(problems, "\n"))
				}
			}
		})
	}
}

// A local action's steps follow the same pinning and target rules.
func TestRulesCatchBrokenActions(t *testing.T) {
	w, err := LoadWorkflow(mainWorkflowPath(t))
	if err != nil {
		t.Fatal(err)
	}
	var broken Action
	broken.Runs.Steps = []Step{{Uses: "actions/setup-go@v5"}, {Run: "make no-such-target"}}
	problems := Check(w, map[string]*Action{"./.github/actions/broken": &broken}, makeTargets(t))
	for _, want := range []string{
		"action ./.github/actions/broken uses actions/setup-go@v5: pin the action",
		"action ./.github/actions/broken runs make no-such-target: no such target",
	} {
		if !containsSubstring(problems, want) {
			t.Errorf("no problem mentions %q; got:\n%s", want, strings.Join(problems, "\n"))
		}
	}
}

var wantLine = regexp.MustCompile(`(?m)^# want: (.+)$`)

// The fixtures in testdata/ are whole workflows, each wrong in the ways its "# want:" lines name.
func TestBrokenFixturesFail(t *testing.T) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures in testdata/ (%v)", err)
	}
	for _, f := range fixtures {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wants := wantLine.FindAllStringSubmatch(string(raw), -1)
			if len(wants) == 0 {
				t.Fatalf("%s has no '# want:' line", f)
			}
			w, err := LoadWorkflow(f)
			if err != nil {
				t.Fatal(err)
			}
			problems := Check(w, nil, makeTargets(t))
			for _, want := range wants {
				if !containsSubstring(problems, want[1]) {
					t.Errorf("nothing reports %q; got:\n%s", want[1], strings.Join(problems, "\n"))
				}
			}
		})
	}
}

// .ci/run and the workflow drift apart: both directions are reported.
func TestCompareLocalReportsDrift(t *testing.T) {
	w := &Workflow{Jobs: map[string]*Job{
		"a": {Steps: []Step{{Run: "make lint test-command"}}},
		"d": {Steps: []Step{{Run: "make deploy-read images-push"}}},
	}}
	got := CompareLocal([]string{"lint", "test"}, nil, w)
	want := []string{"the workflow runs make test-command and .ci/run does not", ".ci/run runs make test and the workflow does not"}
	if !slices.Equal(got, want) {
		t.Errorf("CompareLocal = %q, want %q", got, want)
	}
	// An aggregate counts by its prerequisites, in both directions.
	db := map[string][]string{"test": {"lint", "test-command"}, "lint": {"vet"}}
	if got := CompareLocal([]string{"test"}, db, w); len(got) != 0 {
		t.Errorf("CompareLocal with test = lint + test-command: %q, want no drift", got)
	}
	db["test"] = []string{"lint", "test-command", "bench"}
	want = []string{".ci/run runs make test and the workflow does not"}
	if got := CompareLocal([]string{"test"}, db, w); !slices.Equal(got, want) {
		t.Errorf("CompareLocal with an aggregate the workflow does not cover = %q, want %q", got, want)
	}
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
