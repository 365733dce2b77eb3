package pipeline

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Side is one side's job and the make targets it runs: its binary, its tests, its consumer pacts.
type Side struct {
	Job     string
	Targets []string
}

// Sides fan out in parallel.
var Sides = []Side{
	{Job: "command", Targets: []string{"build-command", "test-command", "contracts-consumer-command"}},
	{Job: "read", Targets: []string{"build-read", "test-read", "contracts-consumer-read"}},
}

// The jobs after the fan-in, and the make target each one exists to run.
const (
	GateJob          = "contracts"
	GateTarget       = "contracts"
	ImagesJob        = "images"
	DeployReadJob    = "deploy-read"
	DeployCommandJob = "deploy-command"
)

// ImagesTargets must run in the images job (build, then check, what is pushed).
var ImagesTargets = []string{"images", "test-images"}

// exclusiveTargets may run in their own job only: a deploy in another job would break the
// order, a push from another job would publish what the images job did not check.
var exclusiveTargets = map[string]string{
	"deploy-read":    DeployReadJob,
	"deploy-command": DeployCommandJob,
	"images-push":    ImagesJob,
	"image-refs":     ImagesJob,
}

// ReleaseOnlyTargets publish or deploy: the workflow runs them, .ci/run (local) does not.
var ReleaseOnlyTargets = []string{"images-push", "image-refs", "pact-publish", "can-i-deploy", "deploy-read", "deploy-command"}

// mainOnly is the condition that keeps a job to pushes on the main branch.
var mainOnly = regexp.MustCompile(`github\.ref\s*==\s*'refs/heads/main'`)

// pinned: a full commit SHA after @, or a local action.
var pinned = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)

// Check applies the pipeline's rules to the main workflow, the local actions it uses
// (keyed by their path, e.g. ./.github/actions/toolchain) and the make targets that exist.
// It returns every problem found, sorted.
func Check(w *Workflow, actions map[string]*Action, targets map[string]bool) []string {
	c := &checker{w: w}
	ancestors := map[string]map[string]bool{}
	for _, name := range sortedJobs(w) {
		a, err := w.Ancestors(name)
		if err != nil {
			c.addf("job %s: %v", name, err)
			continue
		}
		ancestors[name] = a
	}

	for _, side := range Sides {
		if c.job(side.Job) == nil {
			continue
		}
		c.runs(side.Job, side.Targets...)
		for _, other := range Sides {
			if other.Job != side.Job && ancestors[side.Job][other.Job] {
				c.addf("job %s waits for %s: the sides must run in parallel and meet at %s", side.Job, other.Job, GateJob)
			}
		}
	}

	if gate := c.job(GateJob); gate != nil {
		for _, side := range Sides {
			if !slices.Contains(gate.Needs, side.Job) {
				c.addf("job %s (the fan-in gate) does not need %s directly", GateJob, side.Job)
			}
		}
		c.runs(GateJob, GateTarget)
	}

	if c.job(ImagesJob) != nil {
		c.runs(ImagesJob, ImagesTargets...)
		c.waitsFor(ImagesJob, ancestors[ImagesJob], GateJob)
	}

	for _, deploy := range []string{DeployReadJob, DeployCommandJob} {
		j := c.job(deploy)
		if j == nil {
			continue
		}
		c.runs(deploy, deploy)
		want := []string{GateJob, ImagesJob}
		for _, side := range Sides {
			want = append(want, side.Job)
		}
		c.waitsFor(deploy, ancestors[deploy], want...)
		if env := environmentName(j.Environment); env == "" {
			c.addf("job %s has no environment: deploys go through the environment's protection rules", deploy)
		}
		if !mainOnly.MatchString(j.If) {
			c.addf("job %s runs on %q, not only on pushes to main (if: must test github.ref == 'refs/heads/main')", deploy, j.If)
		}
	}
	if j := w.Jobs[DeployCommandJob]; j != nil && !slices.Contains(j.Needs, DeployReadJob) {
		c.addf("job %s does not need %s: the read side deploys first (deploy/README.md)", DeployCommandJob, DeployReadJob)
	}
	if ancestors[DeployReadJob][DeployCommandJob] {
		c.addf("job %s waits for %s: the read side deploys first", DeployReadJob, DeployCommandJob)
	}

	c.generic(actions, targets)
	sort.Strings(c.problems)
	return c.problems
}

// CheckAny applies the rules every workflow follows, pipeline or not: make targets that
// exist, deploy and push targets only in their own jobs, actions pinned by SHA, read-only
// default permissions.
func CheckAny(w *Workflow, actions map[string]*Action, targets map[string]bool) []string {
	c := &checker{w: w}
	c.generic(actions, targets)
	sort.Strings(c.problems)
	return c.problems
}

func (c *checker) generic(actions map[string]*Action, targets map[string]bool) {
	for _, name := range sortedJobs(c.w) {
		j := c.w.Jobs[name]
		for _, t := range j.MakeTargets() {
			if !targets[t] {
				c.addf("job %s runs make %s: no such target in the Makefile or deploy/*.mk", name, t)
			}
			if owner, ok := exclusiveTargets[t]; ok && owner != name {
				c.addf("job %s runs make %s, which only job %s may run", name, t, owner)
			}
		}
		for _, s := range j.Steps {
			c.pin(fmt.Sprintf("job %s", name), s.Uses)
		}
		c.permissions(fmt.Sprintf("job %s", name), j.Permissions, name == ImagesJob)
	}
	for _, path := range sortedActions(actions) {
		for _, s := range actions[path].Runs.Steps {
			c.pin("action "+path, s.Uses)
			for _, t := range MakeTargetsIn(s.Run) {
				if !targets[t] {
					c.addf("action %s runs make %s: no such target", path, t)
				}
			}
		}
	}
	c.topPermissions(c.w.Permissions)
}

type checker struct {
	w        *Workflow
	problems []string
}

func (c *checker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *checker) job(name string) *Job {
	j, ok := c.w.Jobs[name]
	if !ok {
		c.addf("job %s is missing", name)
	}
	return j
}

func (c *checker) runs(job string, targets ...string) {
	have := c.w.Jobs[job].MakeTargets()
	for _, t := range targets {
		if !slices.Contains(have, t) {
			c.addf("job %s does not run make %s", job, t)
		}
	}
}

func (c *checker) waitsFor(job string, ancestors map[string]bool, want ...string) {
	for _, w := range want {
		if !ancestors[w] {
			c.addf("job %s does not wait for %s (directly or through its needs)", job, w)
		}
	}
}

func (c *checker) pin(where, uses string) {
	switch {
	case uses == "", strings.HasPrefix(uses, "./"):
	case strings.HasPrefix(uses, "docker://"):
		if !strings.Contains(uses, "@sha256:") {
			c.addf("%s uses %s: pin the image by digest", where, uses)
		}
	case !pinned.MatchString(uses):
		c.addf("%s uses %s: pin the action by its full commit SHA (a tag can be moved)", where, uses)
	}
}

// topPermissions: the workflow's default token reads the repository and nothing else.
func (c *checker) topPermissions(p any) {
	m, ok := p.(map[string]any)
	if !ok || len(m) != 1 || m["contents"] != "read" {
		c.addf("workflow permissions are %v, want {contents: read} (jobs widen them where needed)", p)
	}
}

// permissions: only the images job may write, and only packages (the registry).
func (c *checker) permissions(where string, p any, images bool) {
	switch p := p.(type) {
	case nil:
	case string:
		if p == "write-all" {
			c.addf("%s: permissions write-all", where)
		}
	case map[string]any:
		for _, scope := range sortedAnyKeys(p) {
			if p[scope] != "write" {
				continue
			}
			if !(images && scope == "packages") {
				c.addf("%s: permission %s: write (only the images job writes, to packages)", where, scope)
			}
		}
	}
}

// environmentName reads `environment: name` or `environment: {name: ...}`.
func environmentName(env any) string {
	switch e := env.(type) {
	case string:
		return e
	case map[string]any:
		if n, ok := e["name"].(string); ok {
			return n
		}
	}
	return ""
}

// CompareLocal checks that .ci/run (the local truth) and the workflow's verification jobs
// do the same work; the workflow may add only ReleaseOnlyTargets. Targets count with their
// prerequisites (db is make's database): .ci/run runs README's `make test`, whose
// prerequisites are the workflow's per-side jobs.
func CompareLocal(local []string, db map[string][]string, w *Workflow) []string {
	var inWorkflow []string
	for _, j := range w.Jobs {
		for _, t := range j.MakeTargets() {
			if !slices.Contains(ReleaseOnlyTargets, t) {
				inWorkflow = append(inWorkflow, t)
			}
		}
	}
	localRuns, workflowRuns := Closure(local, db), Closure(inWorkflow, db)
	var problems []string
	for _, t := range sortedKeys(Closure(inWorkflow, nil)) {
		if !localRuns[t] {
			problems = append(problems, fmt.Sprintf("the workflow runs make %s and .ci/run does not", t))
		}
	}
	var covered func(t string) bool
	covered = func(t string) bool {
		if workflowRuns[t] {
			return true
		}
		// An aggregate (README's `make test`) is covered when all it runs is.
		if len(db[t]) == 0 {
			return false
		}
		for _, p := range db[t] {
			if !covered(p) {
				return false
			}
		}
		return true
	}
	for _, t := range sortedKeys(Closure(local, nil)) {
		if !covered(t) {
			problems = append(problems, fmt.Sprintf(".ci/run runs make %s and the workflow does not", t))
		}
	}
	return problems
}

func sortedJobs(w *Workflow) []string {
	names := make([]string, 0, len(w.Jobs))
	for n := range w.Jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sortedActions(m map[string]*Action) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sortedAnyKeys(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
