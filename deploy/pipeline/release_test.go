package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"
)

const componentLabel = "app.kubernetes.io/component"

var (
	releaseCommandImage = "ghcr.io/switchyardhq/switchyard-command@sha256:" + strings.Repeat("c", 64)
	releaseReadImage    = "ghcr.io/switchyardhq/switchyard-read@sha256:" + strings.Repeat("d", 64)
)

// object is what the release checks read of a rendered Kubernetes object.
type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	ServiceAccountName string      `yaml:"serviceAccountName"`
	Containers         []container `yaml:"containers"`
	InitContainers     []container `yaml:"initContainers"`
	Volumes            []struct {
		ConfigMap *ref `yaml:"configMap"`
		Secret    *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type container struct {
	Name    string    `yaml:"name"`
	Image   string    `yaml:"image"`
	EnvFrom []envFrom `yaml:"envFrom"`
	Env     []struct {
		ValueFrom *struct {
			ConfigMapKeyRef *ref `yaml:"configMapKeyRef"`
			SecretKeyRef    *ref `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
}

type envFrom struct {
	ConfigMapRef *ref `yaml:"configMapRef"`
	SecretRef    *ref `yaml:"secretRef"`
}

type ref struct {
	Name string `yaml:"name"`
}

func (o object) id() string { return o.Kind + "/" + o.Metadata.Name }

// uses lists the objects a Deployment's pods need to exist: its service account, and the
// ConfigMaps and Secrets its containers and volumes read.
func (o object) uses() []string {
	s := o.Spec.Template.Spec
	var out []string
	if s.ServiceAccountName != "" {
		out = append(out, "ServiceAccount/"+s.ServiceAccountName)
	}
	for _, c := range append(append([]container{}, s.InitContainers...), s.Containers...) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				out = append(out, "ConfigMap/"+e.ConfigMapRef.Name)
			}
			if e.SecretRef != nil {
				out = append(out, "Secret/"+e.SecretRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				out = append(out, "ConfigMap/"+e.ValueFrom.ConfigMapKeyRef.Name)
			}
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				out = append(out, "Secret/"+e.ValueFrom.SecretKeyRef.Name)
			}
		}
	}
	for _, v := range s.Volumes {
		if v.ConfigMap != nil {
			out = append(out, "ConfigMap/"+v.ConfigMap.Name)
		}
		if v.Secret != nil {
			out = append(out, "Secret/"+v.Secret.SecretName)
		}
	}
	return out
}

func requireKubectl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kubectl is required in CI (it renders the release kustomization): %v", err)
		}
		t.Skipf("kubectl is not installed (%v)", err)
	}
}

// runMake runs make in the repository root and returns its standard output.
func runMake(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"--no-print-directory"}, args...)...)
	cmd.Dir = repoRoot(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("make %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

func render(t *testing.T, dir string) []object {
	t.Helper()
	out, err := exec.Command("kubectl", "kustomize", dir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, ee.Stderr)
		}
		t.Fatalf("kubectl kustomize %s: %v", dir, err)
	}
	var objs []object
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var o object
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode the rendered release: %v", err)
		}
		if o.Kind != "" {
			objs = append(objs, o)
		}
	}
	if len(objs) == 0 {
		t.Fatalf("the release kustomization in %s renders nothing", dir)
	}
	return objs
}

var (
	applyLine   = regexp.MustCompile(`(?m)^\S*kubectl apply .*-k (\S+)(?: -l '([^']*)')?\s*$`)
	rolloutLine = regexp.MustCompile(`(?m)^\S*kubectl -n (\S+) rollout status deployment/(\S+)`)
)

// deployStep is what one deploy target does, read from `make -n`: the kustomization it
// applies, with which label selector, and the rollout it waits for.
type deployStep struct {
	target, dir, selector, namespace, deployment string
}

func planStep(t *testing.T, target string, vars []string) deployStep {
	t.Helper()
	out, err := runMake(t, append([]string{"-n", target}, vars...)...)
	if err != nil {
		t.Fatal(err)
	}
	applies := applyLine.FindAllStringSubmatch(out, -1)
	rollouts := rolloutLine.FindAllStringSubmatch(out, -1)
	if len(applies) != 1 || len(rollouts) != 1 {
		t.Fatalf("make -n %s: want one kubectl apply -k and one rollout status, got:\n%s", target, out)
	}
	return deployStep{target: target, dir: applies[0][1], selector: applies[0][2],
		namespace: rollouts[0][1], deployment: rollouts[0][2]}
}

// checkRelease writes the release kustomization as the deploy jobs do, renders it, reads the
// two deploy steps from make, and returns what is wrong with playing them in order.
func checkRelease(t *testing.T, overrides ...string) []string {
	t.Helper()
	dir := t.TempDir()
	vars := append([]string{"PIPELINE_RELEASE_DIR=" + dir, "COMMAND_IMAGE=" + releaseCommandImage, "READ_IMAGE=" + releaseReadImage}, overrides...)
	if _, err := runMake(t, append([]string{"release-kustomization"}, vars...)...); err != nil {
		t.Fatal(err)
	}
	objs := render(t, dir)
	var problems []string
	var steps []deployStep
	for _, target := range []string{"deploy-read", "deploy-command"} {
		step := planStep(t, target, vars)
		if step.dir != dir {
			problems = append(problems, fmt.Sprintf("%s applies %s, not the release kustomization %s", target, step.dir, dir))
		}
		steps = append(steps, step)
	}
	images := map[string]string{"command": releaseCommandImage, "read": releaseReadImage}
	return append(problems, releaseProblems(objs, steps, images)...)
}

// releaseProblems plays the deploy steps (read first, then command) over the rendered objects:
// the read step applies nothing of the command side and everything its pods need (their
// namespace, service account, ConfigMaps, Secrets); each step waits for its own side's
// Deployment; between them the steps apply every object; each side runs its image.
func releaseProblems(objs []object, steps []deployStep, images map[string]string) []string {
	var problems []string
	addf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	byID := map[string]object{}
	for _, o := range objs {
		byID[o.id()] = o
	}
	for _, o := range objs {
		want, ok := images[o.Metadata.Labels[componentLabel]]
		if o.Kind != "Deployment" || !ok {
			continue
		}
		for _, c := range o.Spec.Template.Spec.Containers {
			if c.Image != want {
				addf("%s container %s runs %s, want this run's %s", o.id(), c.Name, c.Image, want)
			}
		}
	}

	applied := map[string]string{} // object -> the step that applied it first
	for _, step := range steps {
		component := strings.TrimPrefix(step.target, "deploy-")
		sel := labels.Everything()
		if step.selector != "" {
			var err error
			if sel, err = labels.Parse(step.selector); err != nil {
				addf("%s: selector %q: %v", step.target, step.selector, err)
				continue
			}
		}
		var selected []object
		for _, o := range objs {
			if sel.Matches(labels.Set(o.Metadata.Labels)) {
				selected = append(selected, o)
				if _, ok := applied[o.id()]; !ok {
					applied[o.id()] = step.target
				}
			}
		}
		for _, o := range selected {
			if component == "read" && o.Metadata.Labels[componentLabel] == "command" {
				addf("%s applies %s, which belongs to the command side", step.target, o.id())
			}
			if ns := o.Metadata.Namespace; ns != "" && byID["Namespace/"+ns].Kind != "" {
				if _, ok := applied["Namespace/"+ns]; !ok {
					addf("%s applies %s before Namespace/%s exists", step.target, o.id(), ns)
				}
			}
			if o.Kind == "Deployment" {
				for _, dep := range o.uses() {
					if _, ok := applied[dep]; !ok {
						addf("%s applies %s but not %s, which its pods use", step.target, o.id(), dep)
					}
				}
			}
		}
		d, ok := byID["Deployment/"+step.deployment]
		switch {
		case !ok:
			addf("%s waits for deployment/%s, which the release does not contain", step.target, step.deployment)
		case d.Metadata.Labels[componentLabel] != component:
			addf("%s waits for deployment/%s, the %s side's, want the %s side's", step.target, step.deployment, d.Metadata.Labels[componentLabel], component)
		case !sel.Matches(labels.Set(d.Metadata.Labels)):
			addf("%s waits for %s, which it does not apply", step.target, d.id())
		case step.namespace != d.Metadata.Namespace:
			addf("%s waits in namespace %s, the Deployment is in %s", step.target, step.namespace, d.Metadata.Namespace)
		}
	}
	for _, o := range objs {
		if _, ok := applied[o.id()]; !ok {
			addf("no deploy step applies %s", o.id())
		}
	}
	return problems
}

// The deploy jobs apply the split overlay with this run's images, the read side first: the
// read step touches nothing of the command side and brings everything the read pods need.
func TestReleaseDeploysReadFirstWithThisRunsImages(t *testing.T) {
	requireKubectl(t)
	for _, p := range checkRelease(t) {
		t.Error(p)
	}
}

// The release checks catch a deploy order that is wrong in the ways that matter.
func TestReleaseChecksCatchWrongSteps(t *testing.T) {
	requireKubectl(t)
	cases := []struct {
		name     string
		override string
		want     []string
	}{
		{"read step selects the whole system", "PIPELINE_READ_SELECTOR=app.kubernetes.io/part-of=switchyard",
			[]string{"deploy-read applies Deployment/switchyard-command, which belongs to the command side"}},
		{"read step selects only labelled read objects", "PIPELINE_READ_SELECTOR=app.kubernetes.io/component=read",
			[]string{"deploy-read applies Deployment/switchyard-read before Namespace/switchyard exists"}},
		{"read step selects nothing", "PIPELINE_READ_SELECTOR=app.kubernetes.io/component=nothing",
			[]string{"deploy-read waits for Deployment/switchyard-read, which it does not apply"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			problems := checkRelease(t, tc.override)
			for _, want := range tc.want {
				if !containsSubstring(problems, want) {
					t.Errorf("no problem mentions %q; got:\n%s", want, strings.Join(problems, "\n"))
				}
			}
		})
	}
}

// The release kustomization takes digests (or explicit tags), never latest, never a bad digest.
func TestReleaseKustomizationRefusesFloatingImages(t *testing.T) {
	cases := []struct{ command, read, want string }{
		{"ghcr.io/switchyardhq/switchyard-command:latest", releaseReadImage, "refusing to deploy the latest tag"},
		{releaseCommandImage, "ghcr.io/switchyardhq/switchyard-read@sha256:abc", "the digest is not sha256:<64 hex>"},
		{releaseCommandImage, "ghcr.io/switchyardhq/switchyard-read", "neither repository@sha256:digest nor repository:tag"},
		{"", releaseReadImage, "set COMMAND_IMAGE and READ_IMAGE"},
	}
	for _, tc := range cases {
		_, err := runMake(t, "release-kustomization", "PIPELINE_RELEASE_DIR="+t.TempDir(), "COMMAND_IMAGE="+tc.command, "READ_IMAGE="+tc.read)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("COMMAND_IMAGE=%q READ_IMAGE=%q: err = %v, want %q", tc.command, tc.read, err, tc.want)
		}
	}
}

// The step rules on a hand-made release, one mistake per case: a Deployment whose ConfigMap
// no step has applied yet, a rollout wait on the other side's Deployment or in the wrong
// namespace, an old image, an object neither step applies.
func TestReleaseProblemsOnSyntheticRelease(t *testing.T) {
	mk := func(kind, name, component string) object {
		var o object
		o.Kind, o.Metadata.Name, o.Metadata.Namespace = kind, name, "ns"
		o.Metadata.Labels = map[string]string{}
		if component != "" {
			o.Metadata.Labels[componentLabel] = component
		}
		return o
	}
	ns := mk("Namespace", "ns", "")
	ns.Metadata.Namespace = ""
	readDeploy := mk("Deployment", "r", "read")
	readDeploy.Spec.Template.Spec.ServiceAccountName = "r"
	readDeploy.Spec.Template.Spec.Containers = []container{{Name: "app", Image: "img-read",
		EnvFrom: []envFrom{{ConfigMapRef: &ref{"r-config"}}}}}
	commandDeploy := mk("Deployment", "c", "command")
	commandDeploy.Spec.Template.Spec.Containers = []container{{Name: "app", Image: "img-command"}}
	release := func(configMapComponent string) []object {
		return []object{ns, mk("ServiceAccount", "r", "read"), mk("ConfigMap", "r-config", configMapComponent), readDeploy, commandDeploy}
	}
	images := map[string]string{"read": "img-read", "command": "img-command"}
	readStep := deployStep{target: "deploy-read", selector: componentLabel + "!=command", namespace: "ns", deployment: "r"}
	commandStep := deployStep{target: "deploy-command", namespace: "ns", deployment: "c"}
	with := func(s deployStep, edit func(*deployStep)) deployStep { edit(&s); return s }

	if p := releaseProblems(release("read"), []deployStep{readStep, commandStep}, images); len(p) > 0 {
		t.Fatalf("the good release has problems:\n%s", strings.Join(p, "\n"))
	}
	cases := []struct {
		name   string
		objs   []object
		steps  []deployStep
		images map[string]string
		want   string
	}{
		{"ConfigMap without the read label, read step selects by it",
			release(""), []deployStep{with(readStep, func(s *deployStep) { s.selector = componentLabel + "=read" }), commandStep}, images,
			"deploy-read applies Deployment/r but not ConfigMap/r-config, which its pods use"},
		{"read step waits for the command Deployment",
			release("read"), []deployStep{with(readStep, func(s *deployStep) { s.deployment = "c" }), commandStep}, images,
			"deploy-read waits for deployment/c, the command side's, want the read side's"},
		{"read step waits in another namespace",
			release("read"), []deployStep{with(readStep, func(s *deployStep) { s.namespace = "default" }), commandStep}, images,
			"deploy-read waits in namespace default, the Deployment is in ns"},
		{"an old read image",
			release("read"), []deployStep{readStep, commandStep}, map[string]string{"read": "img-read-new", "command": "img-command"},
			"Deployment/r container app runs img-read, want this run's img-read-new"},
		{"the command step applies only the read side",
			release("read"), []deployStep{readStep, with(commandStep, func(s *deployStep) { s.selector = componentLabel + "=read" })}, images,
			"no deploy step applies Deployment/c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := releaseProblems(tc.objs, tc.steps, tc.images)
			if !containsSubstring(p, tc.want) {
				t.Errorf("no problem mentions %q; got:\n%s", tc.want, strings.Join(p, "\n"))
			}
		})
	}
}
