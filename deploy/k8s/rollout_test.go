package k8s

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// KwokEnv names the kwok binary for the simulated rollout; make k8s-rollout sets it.
const KwokEnv = "SWITCHYARD_KWOK"

// TestSimulatedRollout deploys the split overlay for real to a control plane with
// kube-controller-manager, kube-scheduler and kwok, which simulates three nodes: kwok marks
// pods running and ready, and NO CONTAINER RUNS (probes are not executed). It checks what
// the controllers do with the manifests: both Deployments roll out, the autoscaler brings
// the read side to its minimum of 3, a new read image rolls the read side while the command
// side's pods stay untouched, and a drain that would take a second command pod away is
// refused by the PodDisruptionBudget.
func TestSimulatedRollout(t *testing.T) {
	bin := requireBin(t, "etcd", "kube-apiserver", "kubectl", "kube-controller-manager", "kube-scheduler")
	kwok := os.Getenv(KwokEnv)
	if kwok == "" {
		t.Skipf("%s is not set: `make k8s-rollout` builds kwok and runs this test", KwokEnv)
	}
	cp := startControlPlane(t, bin)
	cp.start("kube-controller-manager", filepath.Join(bin, "kube-controller-manager"),
		"--kubeconfig="+cp.kubeconfig, "--leader-elect=false", "--secure-port=0", "--controllers=*",
		"--concurrent-deployment-syncs=5", "--horizontal-pod-autoscaler-sync-period=2s")
	cp.start("kube-scheduler", filepath.Join(bin, "kube-scheduler"),
		"--kubeconfig="+cp.kubeconfig, "--leader-elect=false", "--secure-port=0")
	stages, err := filepath.Abs("kwok/stages.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cp.start("kwok", kwok, "--kubeconfig="+cp.kubeconfig, "--config="+stages,
		"--manage-all-nodes", "--cidr=10.244.0.0/16", "--node-lease-duration-seconds=40")

	nodes := []string{"node-a", "node-b", "node-c"}
	for i, n := range nodes {
		node := fmt.Sprintf(`apiVersion: v1
kind: Node
metadata:
  name: %s
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: %s, topology.kubernetes.io/zone: zone-%c, type: kwok}
status:
  allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
  capacity: {cpu: "4", memory: 16Gi, pods: "110"}
`, n, n, 'a'+i)
		cp.mustKubectl(t, []byte(node), "apply", "-f", "-")
	}
	cp.mustKubectl(t, nil, "wait", "--for=condition=Ready", "node", "--all", "--timeout=60s")
	start := time.Now()
	step := func(format string, args ...any) {
		t.Logf("%5.1fs  %s", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	step("3 kwok nodes ready")

	split, err := filepath.Abs("overlays/split")
	if err != nil {
		t.Fatal(err)
	}
	rendered := render(t, "overlays/split")
	cp.mustKubectl(t, documents(rendered, isNamespace), "apply", "--server-side", "-f", "-")
	cp.mustKubectl(t, rendered, "apply", "--server-side", "--field-manager=switchyard-ci", "-f", "-")
	ns := "--namespace=switchyard"

	// Both sides roll out; the read side has no replicas field, so the autoscaler raises it
	// from the Deployment's default of 1 to its minimum of 3.
	cp.mustKubectl(t, nil, ns, "rollout", "status", "deployment/switchyard-command", "--timeout=180s")
	cp.eventually(t, "the HorizontalPodAutoscaler to scale switchyard-read to 3", 90*time.Second, func() error {
		var d struct {
			Status struct{ ReadyReplicas int } `json:"status"`
		}
		if err := json.Unmarshal([]byte(cp.mustKubectl(t, nil, ns, "get", "deployment/switchyard-read", "-o", "json")), &d); err != nil {
			return err
		}
		if d.Status.ReadyReplicas != 3 {
			return fmt.Errorf("%d ready", d.Status.ReadyReplicas)
		}
		return nil
	})
	cp.mustKubectl(t, nil, ns, "rollout", "status", "deployment/switchyard-read", "--timeout=180s")
	step("both Deployments rolled out; the HPA scaled switchyard-read to 3")
	commandPods := cp.pods(t, "command")
	if len(commandPods) != 3 {
		t.Fatalf("want 3 command pods, have %v", commandPods)
	}
	spread := map[string]bool{}
	for _, node := range commandPods {
		spread[node] = true
	}
	if len(spread) != 3 {
		t.Errorf("command pods share nodes (%v): the topology spread did not take", commandPods)
	}

	// A new read image rolls the read side and leaves the command pods alone.
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, split)
	if err != nil {
		t.Fatal(err)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + rel +
		"\nimages:\n  - name: ghcr.io/switchyardhq/switchyard-read\n    newTag: 0.1.1-rollout\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	cp.mustKubectl(t, render(t, dir), "apply", "--server-side", "--field-manager=switchyard-ci", "-f", "-")
	cp.mustKubectl(t, nil, ns, "rollout", "status", "deployment/switchyard-read", "--timeout=180s")
	images := cp.mustKubectl(t, nil, ns, "get", "pods", "-l", LabelComponent+"=read", "-o", "jsonpath={.items[*].spec.containers[0].image}")
	if strings.Count(images, ":0.1.1-rollout") != 3 || strings.Contains(images, ":0.1.0") {
		t.Errorf("read pods after the rollout run %q, want 3 of 0.1.1-rollout", images)
	}
	if got := cp.pods(t, "command"); fmt.Sprint(got) != fmt.Sprint(commandPods) {
		t.Errorf("the read rollout replaced command pods: before %v, after %v", commandPods, got)
	} else {
		step("read side rolled to 0.1.1-rollout; command pods unchanged: %v", commandPods)
	}

	// Drains: with every node cordoned (no room for replacements), draining one node
	// evicts its command and read pods (each budget allows one). Draining the command pod
	// of a second node would leave one of three command pods, and the command side's
	// PodDisruptionBudget (maxUnavailable 1) must refuse it. The second drain selects the
	// command pods only, so that the read side's budget cannot be what refuses it.
	for _, n := range nodes {
		cp.mustKubectl(t, nil, "cordon", n)
	}
	first, second := nodeOf(t, commandPods, 0), nodeOf(t, commandPods, 1)
	cp.mustKubectl(t, nil, "drain", first, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s")
	out, err := cp.kubectl(nil, "drain", second, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=8s",
		"--pod-selector="+LabelComponent+"=command")
	if err == nil {
		t.Fatalf("draining the command pod of %s after %s succeeded: the PodDisruptionBudget did not hold\n%s", second, first, out)
	}
	refused := regexp.MustCompile(`evicting pods/"switchyard-command-[^"]+" -n "switchyard".*Cannot evict pod as it would violate the pod's disruption budget`)
	if !refused.MatchString(out) {
		t.Fatalf("draining %s failed, but not on the command side's disruption budget:\n%s", second, out)
	}
	step("drained %s; draining %s refused by the PodDisruptionBudget", first, second)
}

// pods returns pod name -> node of one component's pods, sorted by name when printed.
func (cp *controlPlane) pods(t *testing.T, component string) map[string]string {
	t.Helper()
	out := cp.mustKubectl(t, nil, "--namespace=switchyard", "get", "pods", "-l", LabelComponent+"="+component,
		"--field-selector=status.phase=Running", "-o", `jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}{"\n"}{end}`)
	pods := map[string]string{}
	for _, line := range strings.Fields(out) {
		name, node, _ := strings.Cut(line, "=")
		pods[name] = node
	}
	return pods
}

// nodeOf returns the node of the i-th pod (by name) of pods.
func nodeOf(t *testing.T, pods map[string]string, i int) string {
	t.Helper()
	names := sortedKeys(pods)
	if i >= len(names) {
		t.Fatalf("no pod %d in %v", i, pods)
	}
	return pods[names[i]]
}

func (cp *controlPlane) mustKubectl(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	out, err := cp.kubectl(stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (cp *controlPlane) eventually(t *testing.T, what string, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %v", timeout, what, err)
		}
		time.Sleep(time.Second)
	}
}
