package k8s

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Project-wide values the manifests must agree with.
const (
	// LabelComponent names a workload's side: command, read or monolith.
	LabelComponent = "app.kubernetes.io/component"
	// LabelPartOf marks every Switchyard pod; the base's default-deny policy selects on it.
	LabelPartOf = "app.kubernetes.io/part-of"
	partOf      = "switchyard"

	containerName = "switchyard"
	httpPort      = 8080
	nonRootUID    = 65532
	dataDir       = "/data"
	tmpDir        = "/tmp"
	// minAvailable is how many pods of a side must keep serving through a voluntary disruption.
	minAvailable = 2
)

// Side is what the project requires of one workload (command, read or monolith).
type Side struct {
	Deployment string
	Image      string // repository, without tag or digest
	// Replicas is the fixed pod count; 0 means an autoscaler owns it, and the Deployment
	// must leave spec.replicas unset so that an apply does not reset the count.
	Replicas       int32
	HPAMin, HPAMax int32
	// DSNs maps each database variable the side needs to the Service its host must name.
	DSNs map[string]string
	// Forbidden variables hold another side's credentials.
	Forbidden []string
	// Egress is every destination the pods must be able to reach, and Optional what they
	// may also reach; anything else is a rule violation. A destination is written
	// "<peer>:<port>/<protocol>" where the peer is a key of external.yaml (for an ipBlock),
	// "dns" (the cluster DNS) or "pods:<side>".
	Egress, OptionalEgress []string
}

var dnsEgress = []string{"dns:53/UDP", "dns:53/TCP"}

// Sides are the project's rules, by the value of the app.kubernetes.io/component label.
var Sides = map[string]Side{
	"command": {
		Deployment: "switchyard-command", Image: "ghcr.io/switchyardhq/switchyard-command", Replicas: 3,
		DSNs:      map[string]string{"SWITCHYARD_FLAGS_DSN": "switchyard-db", "SWITCHYARD_AUDIT_DSN": "switchyard-db"},
		Forbidden: []string{"SWITCHYARD_EVALUATION_DSN", "SWITCHYARD_PUSH_TOKENS"},
		Egress:    append([]string{"dbCIDR:5432/TCP", "natsCIDR:4222/TCP"}, dnsEgress...),
		// The synchronous push to the read pods (SWITCHYARD_PUSH_URL), the alternative to NATS.
		OptionalEgress: []string{"pods:read:8080/TCP"},
	},
	"read": {
		Deployment: "switchyard-read", Image: "ghcr.io/switchyardhq/switchyard-read", HPAMin: 3, HPAMax: 50,
		DSNs:      map[string]string{"SWITCHYARD_EVALUATION_DSN": "switchyard-read-db"},
		Forbidden: []string{"SWITCHYARD_FLAGS_DSN", "SWITCHYARD_AUDIT_DSN", "SWITCHYARD_PUSH_URL", "SWITCHYARD_PUSH_TOKEN"},
		Egress:    append([]string{"readDbCIDR:5432/TCP", "natsCIDR:4222/TCP"}, dnsEgress...),
	},
	"monolith": {
		Deployment: "switchyard", Image: "ghcr.io/switchyardhq/switchyard", Replicas: 3,
		DSNs: map[string]string{"SWITCHYARD_FLAGS_DSN": "switchyard-db", "SWITCHYARD_EVALUATION_DSN": "switchyard-db",
			"SWITCHYARD_AUDIT_DSN": "switchyard-db"},
		Forbidden: []string{"SWITCHYARD_PUSH_URL", "SWITCHYARD_PUSH_TOKEN", "SWITCHYARD_PUSH_TOKENS"},
		Egress:    append([]string{"dbCIDR:5432/TCP", "natsCIDR:4222/TCP"}, dnsEgress...),
	},
}

// externalHosts maps each ExternalName Service to the external.yaml key of its host.
var externalHosts = map[string]string{
	"switchyard-db": "dbHost", "switchyard-read-db": "readDbHost",
	"switchyard-nats": "natsHost", "switchyard-redis": "redisHost",
}

// knownEnv is every variable switchyard reads; the binary ignores any other, so a
// misspelled name would silently leave a setting at its default.
var knownEnv = map[string]bool{
	"SWITCHYARD_ADDR": true, "SWITCHYARD_DATA_DIR": true, "SWITCHYARD_BUS": true,
	"SWITCHYARD_ENVIRONMENT": true, "SWITCHYARD_SEED_FILE": true, "SWITCHYARD_LOG_LEVEL": true,
	"SWITCHYARD_SHUTDOWN_TIMEOUT": true, "SWITCHYARD_ADMIN_TOKENS": true,
	"SWITCHYARD_FLAGS_DSN": true, "SWITCHYARD_EVALUATION_DSN": true, "SWITCHYARD_AUDIT_DSN": true,
	"SWITCHYARD_NATS_URL": true, "SWITCHYARD_PUSH_URL": true, "SWITCHYARD_PUSH_TOKEN": true,
	"SWITCHYARD_PUSH_TOKENS": true,
	// Go runtime settings, e.g. a soft memory limit below the container's.
	"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true,
}

// secretEnv must come from a Secret, never a ConfigMap or the manifest itself.
var secretEnv = []string{"SWITCHYARD_ADMIN_TOKENS", "SWITCHYARD_FLAGS_DSN", "SWITCHYARD_EVALUATION_DSN",
	"SWITCHYARD_AUDIT_DSN", "SWITCHYARD_PUSH_TOKEN", "SWITCHYARD_PUSH_TOKENS"}

// Topology is what one overlay must deploy.
type Topology struct {
	// Sides are the components the overlay runs, e.g. command and read.
	Sides []string
	// External is the data of the overlay's external.yaml: host names and CIDRs.
	External map[string]string
}

// Check applies the project's rules to a rendered, decoded overlay and returns every
// violation (none means it passes).
func Check(m *Manifest, top Topology) []error {
	c := &checker{m: m, top: top, cidrKey: map[string]string{}}
	for k, v := range top.External {
		if strings.HasSuffix(k, "CIDR") {
			c.cidrKey[v] = k
		}
	}
	c.namespace()
	c.externalServices()
	found := map[string]bool{}
	for _, d := range m.Deployments {
		name := d.Labels[LabelComponent]
		side, ok := Sides[name]
		if !ok || !slices.Contains(top.Sides, name) {
			c.errorf(d, "component %q is not one this overlay runs (%v)", name, top.Sides)
			continue
		}
		if found[name] {
			c.errorf(d, "a second Deployment of component %q", name)
		}
		found[name] = true
		c.deployment(d, name, side)
	}
	for _, name := range top.Sides {
		if !found[name] {
			c.errs = append(c.errs, fmt.Errorf("no Deployment of component %q (want %s)", name, Sides[name].Deployment))
		}
	}
	c.selectorsMatch()
	return c.errs
}

type checker struct {
	m       *Manifest
	top     Topology
	cidrKey map[string]string // CIDR -> external.yaml key
	errs    []error
}

func (c *checker) errorf(obj metav1.Object, format string, args ...any) {
	kind := fmt.Sprintf("%T", obj)
	kind = kind[strings.LastIndex(kind, ".")+1:]
	c.errs = append(c.errs, fmt.Errorf("%s %s: %s", kind, obj.GetName(), fmt.Sprintf(format, args...)))
}

func (c *checker) namespace() {
	if len(c.m.Namespaces) != 1 {
		c.errs = append(c.errs, fmt.Errorf("want exactly one Namespace, have %d", len(c.m.Namespaces)))
		return
	}
	ns := c.m.Namespaces[0]
	if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		c.errorf(ns, "pod-security.kubernetes.io/enforce is %q, want restricted", got)
	}
	var objs []metav1.Object
	for _, o := range c.m.ServiceAccounts {
		objs = append(objs, o)
	}
	for _, o := range c.m.ConfigMaps {
		objs = append(objs, o)
	}
	for _, o := range c.m.Secrets {
		objs = append(objs, o)
	}
	for _, o := range c.m.Services {
		objs = append(objs, o)
	}
	for _, o := range c.m.Deployments {
		objs = append(objs, o)
	}
	for _, o := range c.m.HPAs {
		objs = append(objs, o)
	}
	for _, o := range c.m.PDBs {
		objs = append(objs, o)
	}
	for _, o := range c.m.NetworkPolicies {
		objs = append(objs, o)
	}
	for _, o := range objs {
		if o.GetNamespace() != ns.Name {
			c.errorf(o, "namespace %q, want %q (the overlay's Namespace)", o.GetNamespace(), ns.Name)
		}
	}
}

// externalServices: each ExternalName Service points where external.yaml says.
func (c *checker) externalServices() {
	for _, s := range c.m.Services {
		if s.Spec.Type != corev1.ServiceTypeExternalName {
			continue
		}
		key, ok := externalHosts[s.Name]
		if !ok {
			c.errorf(s, "an ExternalName Service the project does not know (known: %v)", sortedKeys(externalHosts))
			continue
		}
		want := c.top.External[key]
		switch {
		case want == "":
			c.errorf(s, "external.yaml has no %s", key)
		case s.Spec.ExternalName != want:
			c.errorf(s, "externalName %q, want external.yaml's %s %q (did the replacement run?)", s.Spec.ExternalName, key, want)
		}
	}
}

func (c *checker) deployment(d *appsv1.Deployment, name string, side Side) {
	if d.Name != side.Deployment {
		c.errorf(d, "component %s must be the Deployment %s", name, side.Deployment)
	}
	spec, pod := d.Spec, d.Spec.Template.Spec
	if sel, err := metav1.LabelSelectorAsSelector(spec.Selector); err != nil || sel.Empty() || !sel.Matches(labels.Set(spec.Template.Labels)) {
		c.errorf(d, "selector %v does not select its own pod template's labels %v", metav1.FormatLabelSelector(spec.Selector), spec.Template.Labels)
	}
	if spec.Template.Labels[LabelPartOf] != partOf {
		c.errorf(d, "pod template lacks %s=%s: the default-deny NetworkPolicy would not select its pods", LabelPartOf, partOf)
	}
	if spec.Template.Labels[LabelComponent] != name {
		c.errorf(d, "pod template's %s is %q, want %q", LabelComponent, spec.Template.Labels[LabelComponent], name)
	}

	// Replicas: fixed, or owned by the autoscaler.
	minPods := side.Replicas
	if side.Replicas > 0 {
		if spec.Replicas == nil || *spec.Replicas != side.Replicas {
			c.errorf(d, "replicas %s, want %d", ptrString(spec.Replicas), side.Replicas)
		}
	} else {
		minPods = side.HPAMin
		if spec.Replicas != nil {
			c.errorf(d, "replicas is set (%d): the HorizontalPodAutoscaler owns it, and each apply would reset the count", *spec.Replicas)
		}
	}
	c.hpa(d, side)
	c.pdb(d, minPods)

	// Rolling update: never below the desired count.
	if spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || spec.Strategy.RollingUpdate == nil {
		c.errorf(d, "strategy %q, want RollingUpdate with its settings", spec.Strategy.Type)
	} else if mu := spec.Strategy.RollingUpdate.MaxUnavailable; mu == nil || mu.String() != "0" && mu.String() != "0%" {
		c.errorf(d, "rollingUpdate.maxUnavailable %v, want 0: a rollout must not drop below the serving count", mu)
	}

	// Pod-level settings.
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		c.errorf(d, "automountServiceAccountToken must be false: switchyard never calls the Kubernetes API")
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		c.errorf(d, "enableServiceLinks must be false: service links add SWITCHYARD_*_PORT variables beside the configuration")
	}
	if !slices.ContainsFunc(c.m.ServiceAccounts, func(sa *corev1.ServiceAccount) bool { return sa.Name == pod.ServiceAccountName }) {
		c.errorf(d, "serviceAccountName %q is not a ServiceAccount of the manifest", pod.ServiceAccountName)
	}
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		c.errorf(d, "pod securityContext.runAsNonRoot must be true")
	}
	if psc.RunAsUser == nil || *psc.RunAsUser != nonRootUID {
		c.errorf(d, "pod securityContext.runAsUser %s, want %d", ptrString(psc.RunAsUser), nonRootUID)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		c.errorf(d, "pod securityContext.seccompProfile must be RuntimeDefault")
	}

	if len(pod.Containers) != 1 || pod.Containers[0].Name != containerName {
		c.errorf(d, "want one container named %q", containerName)
		return
	}
	if len(pod.InitContainers) > 0 {
		c.errorf(d, "init containers are not expected (switchyard serve applies its own migrations)")
	}
	ct := &pod.Containers[0]
	c.container(d, ct, side)
	env := c.env(d, ct)
	c.config(d, ct, env, side)
	c.network(d, name, side)
	c.owned(d, name)
}

// owned: every object that belongs to one side carries that side's component label, so
// that one side can be applied alone (the pipeline's deploy-read applies
// -l app.kubernetes.io/component!=command) without touching the other's objects.
func (c *checker) owned(d *appsv1.Deployment, name string) {
	pod := d.Spec.Template.Spec
	var objs []metav1.Object
	for _, from := range pod.Containers[0].EnvFrom {
		for _, cm := range c.m.ConfigMaps {
			if from.ConfigMapRef != nil && cm.Name == from.ConfigMapRef.Name {
				objs = append(objs, cm)
			}
		}
		for _, s := range c.m.Secrets {
			if from.SecretRef != nil && s.Name == from.SecretRef.Name {
				objs = append(objs, s)
			}
		}
	}
	for _, sa := range c.m.ServiceAccounts {
		if sa.Name == pod.ServiceAccountName {
			objs = append(objs, sa)
		}
	}
	for _, h := range c.m.HPAs {
		if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == d.Name {
			objs = append(objs, h)
		}
	}
	// Objects that select pods by this side's component label.
	bySide := func(sel *metav1.LabelSelector) bool { return sel != nil && sel.MatchLabels[LabelComponent] == name }
	for _, p := range c.m.PDBs {
		if bySide(p.Spec.Selector) {
			objs = append(objs, p)
		}
	}
	for _, s := range c.m.Services {
		if bySide(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}) {
			objs = append(objs, s)
		}
	}
	for _, np := range c.m.NetworkPolicies {
		if bySide(&np.Spec.PodSelector) {
			objs = append(objs, np)
		}
	}
	for _, o := range objs {
		if o.GetLabels()[LabelComponent] != name {
			c.errorf(o, "belongs to %s but its %s label is %q, want %q: applying one side by label would miss or mix it",
				d.Name, LabelComponent, o.GetLabels()[LabelComponent], name)
		}
	}
}

func (c *checker) container(d *appsv1.Deployment, ct *corev1.Container, side Side) {
	repo, ref := splitImage(ct.Image)
	if repo != side.Image {
		c.errorf(d, "image %q, want %s:<tag>", ct.Image, side.Image)
	}
	if ref == "" || ref == ":latest" {
		c.errorf(d, "image %q must be pinned to a tag other than latest, or a digest (kustomize images: newTag)", ct.Image)
	}
	if len(ct.Command) > 0 || !slices.Equal(ct.Args, []string{"serve"}) {
		c.errorf(d, "command %q args %q, want the image's entrypoint with args [serve]", ct.Command, ct.Args)
	}
	if !slices.ContainsFunc(ct.Ports, func(p corev1.ContainerPort) bool {
		return p.Name == "http" && p.ContainerPort == httpPort && p.Protocol == corev1.ProtocolTCP
	}) {
		c.errorf(d, "no container port http %d/TCP", httpPort)
	}
	for _, p := range []struct {
		name, path string
		probe      *corev1.Probe
	}{
		{"startup", "/healthz", ct.StartupProbe},
		{"liveness", "/healthz", ct.LivenessProbe},
		{"readiness", "/readyz", ct.ReadinessProbe},
	} {
		switch {
		case p.probe == nil:
			c.errorf(d, "no %s probe", p.name)
		case p.probe.HTTPGet == nil:
			c.errorf(d, "%s probe is not an HTTP GET of %s", p.name, p.path)
		case p.probe.HTTPGet.Path != p.path:
			c.errorf(d, "%s probe path %q, want %q", p.name, p.probe.HTTPGet.Path, p.path)
		case p.probe.HTTPGet.Port != intstr.FromString("http") && p.probe.HTTPGet.Port != intstr.FromInt32(httpPort):
			c.errorf(d, "%s probe port %s, want http (%d)", p.name, p.probe.HTTPGet.Port.String(), httpPort)
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := ct.Resources.Requests[r]
		lim, hasLim := ct.Resources.Limits[r]
		switch {
		case !hasReq || req.IsZero():
			c.errorf(d, "no %s request", r)
		case !hasLim || lim.IsZero():
			c.errorf(d, "no %s limit", r)
		case req.Cmp(lim) > 0:
			c.errorf(d, "%s request %s exceeds its limit %s", r, req.String(), lim.String())
		}
	}
	sc := ct.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		c.errorf(d, "securityContext.allowPrivilegeEscalation must be false")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		c.errorf(d, "securityContext.readOnlyRootFilesystem must be true")
	}
	if sc.Privileged != nil && *sc.Privileged {
		c.errorf(d, "securityContext.privileged must not be true")
	}
	if sc.RunAsUser != nil && *sc.RunAsUser != nonRootUID {
		c.errorf(d, "container securityContext.runAsUser %d, want %d", *sc.RunAsUser, nonRootUID)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		c.errorf(d, "securityContext.capabilities must drop ALL and add none")
	}
	// The root filesystem is read-only: /data and /tmp are emptyDirs with a size limit.
	for _, dir := range []string{dataDir, tmpDir} {
		i := slices.IndexFunc(ct.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == dir })
		if i < 0 {
			c.errorf(d, "nothing mounted at %s (the root filesystem is read-only)", dir)
			continue
		}
		vol := ct.VolumeMounts[i].Name
		j := slices.IndexFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == vol })
		switch {
		case j < 0:
			c.errorf(d, "volume %q mounted at %s is not declared", vol, dir)
		case d.Spec.Template.Spec.Volumes[j].EmptyDir == nil:
			c.errorf(d, "volume %q at %s must be an emptyDir", vol, dir)
		case d.Spec.Template.Spec.Volumes[j].EmptyDir.SizeLimit == nil:
			c.errorf(d, "emptyDir %q at %s has no sizeLimit", vol, dir)
		}
	}
}

// envValue is one resolved environment variable and where it came from.
type envValue struct {
	value  string
	source string // "Secret", "ConfigMap", "literal" or "valueFrom" (a field of the pod)
}

// env resolves the container's environment the way the kubelet does (envFrom in order,
// then env), following references into the manifest's ConfigMaps and Secrets.
func (c *checker) env(d *appsv1.Deployment, ct *corev1.Container) map[string]envValue {
	env := map[string]envValue{}
	for _, from := range ct.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			i := slices.IndexFunc(c.m.ConfigMaps, func(cm *corev1.ConfigMap) bool { return cm.Name == from.ConfigMapRef.Name })
			if i < 0 {
				c.errorf(d, "envFrom ConfigMap %q is not in the manifest", from.ConfigMapRef.Name)
				continue
			}
			for k, v := range c.m.ConfigMaps[i].Data {
				env[from.Prefix+k] = envValue{v, "ConfigMap"}
				if slices.Contains(secretEnv, from.Prefix+k) {
					// Even when a Secret later overrides it, the credential sits in a ConfigMap.
					c.errorf(d, "%s comes from a ConfigMap (%s); it is a credential and belongs in a Secret", from.Prefix+k, from.ConfigMapRef.Name)
				}
			}
		case from.SecretRef != nil:
			i := slices.IndexFunc(c.m.Secrets, func(s *corev1.Secret) bool { return s.Name == from.SecretRef.Name })
			if i < 0 {
				c.errorf(d, "envFrom Secret %q is not in the manifest", from.SecretRef.Name)
				continue
			}
			for k, v := range c.m.Secrets[i].Data {
				env[from.Prefix+k] = envValue{string(v), "Secret"}
			}
			for k, v := range c.m.Secrets[i].StringData {
				env[from.Prefix+k] = envValue{v, "Secret"}
			}
		}
	}
	for _, e := range ct.Env {
		if vf := e.ValueFrom; vf != nil {
			switch {
			case vf.SecretKeyRef != nil:
				i := slices.IndexFunc(c.m.Secrets, func(s *corev1.Secret) bool { return s.Name == vf.SecretKeyRef.Name })
				if i < 0 {
					c.errorf(d, "env %s: Secret %q is not in the manifest", e.Name, vf.SecretKeyRef.Name)
					continue
				}
				env[e.Name] = envValue{string(c.m.Secrets[i].Data[vf.SecretKeyRef.Key]), "Secret"}
			case vf.ConfigMapKeyRef != nil:
				i := slices.IndexFunc(c.m.ConfigMaps, func(cm *corev1.ConfigMap) bool { return cm.Name == vf.ConfigMapKeyRef.Name })
				if i < 0 {
					c.errorf(d, "env %s: ConfigMap %q is not in the manifest", e.Name, vf.ConfigMapKeyRef.Name)
					continue
				}
				env[e.Name] = envValue{c.m.ConfigMaps[i].Data[vf.ConfigMapKeyRef.Key], "ConfigMap"}
				if slices.Contains(secretEnv, e.Name) {
					c.errorf(d, "%s comes from a ConfigMap (%s); it is a credential and belongs in a Secret", e.Name, vf.ConfigMapKeyRef.Name)
				}
			default: // fieldRef, resourceFieldRef: known only in the running pod
				env[e.Name] = envValue{"", "valueFrom"}
			}
			continue
		}
		env[e.Name] = envValue{e.Value, "literal"}
		if slices.Contains(secretEnv, e.Name) {
			c.errorf(d, "%s comes from a literal in the manifest; it is a credential and belongs in a Secret", e.Name)
		}
	}
	return env
}

// config checks the environment against what switchyard validates at start-up and what
// this side must (and must not) be given.
func (c *checker) config(d *appsv1.Deployment, ct *corev1.Container, env map[string]envValue, side Side) {
	for _, k := range sortedKeys(env) {
		if !knownEnv[k] {
			c.errorf(d, "variable %s is not one switchyard reads (misspelled? it would be ignored)", k)
		}
	}
	for _, k := range side.Forbidden {
		if _, ok := env[k]; ok {
			c.errorf(d, "%s is set: this side must not hold it", k)
		}
	}
	host, port, err := net.SplitHostPort(env["SWITCHYARD_ADDR"].value)
	if err != nil || (host != "" && host != "0.0.0.0" && host != "::") || port != strconv.Itoa(httpPort) {
		c.errorf(d, "SWITCHYARD_ADDR %q, want :%d (all interfaces, the container port)", env["SWITCHYARD_ADDR"].value, httpPort)
	}
	if got := env["SWITCHYARD_DATA_DIR"].value; got != dataDir {
		c.errorf(d, "SWITCHYARD_DATA_DIR %q, want %s (the writable emptyDir)", got, dataDir)
	}
	if got := env["SWITCHYARD_BUS"].value; got != "async" {
		c.errorf(d, "SWITCHYARD_BUS %q, want async: replicas exchange events through NATS", got)
	}
	c.serviceURL(d, "SWITCHYARD_NATS_URL", env["SWITCHYARD_NATS_URL"].value, []string{"nats", "tls"}, "switchyard-nats")
	for _, k := range sortedKeys(side.DSNs) {
		c.serviceURL(d, k, env[k].value, []string{"postgres", "postgresql"}, side.DSNs[k])
	}
	if v, ok := env["SWITCHYARD_PUSH_URL"]; ok {
		c.serviceURL(d, "SWITCHYARD_PUSH_URL", v.value, []string{"http", "https"}, "switchyard-read")
	}
	if strings.TrimSpace(env["SWITCHYARD_ADMIN_TOKENS"].value) == "" {
		c.errorf(d, "SWITCHYARD_ADMIN_TOKENS is not set: switchyard refuses to listen beyond loopback without it")
	}
	// Termination: the preStop sleep, then switchyard's own graceful shutdown, must fit.
	shutdown, err := time.ParseDuration(env["SWITCHYARD_SHUTDOWN_TIMEOUT"].value)
	if err != nil {
		shutdown = 20 * time.Second // switchyard's default
	}
	var sleep int64
	if ct.Lifecycle != nil && ct.Lifecycle.PreStop != nil && ct.Lifecycle.PreStop.Sleep != nil {
		sleep = ct.Lifecycle.PreStop.Sleep.Seconds
	}
	grace := int64(30)
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if need := sleep + int64(shutdown/time.Second); grace <= need {
		c.errorf(d, "terminationGracePeriodSeconds %d leaves no margin over preStop %ds + SWITCHYARD_SHUTDOWN_TIMEOUT %s", grace, sleep, shutdown)
	}
}

// serviceURL checks that variable k is a URL of one of schemes whose host is the
// Service service of the manifest, on one of that Service's ports.
func (c *checker) serviceURL(d *appsv1.Deployment, k, raw string, schemes []string, service string) {
	if raw == "" {
		c.errorf(d, "%s is not set", k)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains(schemes, u.Scheme) {
		c.errorf(d, "%s is not a %s URL", k, strings.Join(schemes, "/"))
		return
	}
	if u.Hostname() != service {
		c.errorf(d, "%s names host %q, want the Service %s", k, u.Hostname(), service)
		return
	}
	i := slices.IndexFunc(c.m.Services, func(s *corev1.Service) bool { return s.Name == service })
	if i < 0 {
		c.errorf(d, "%s names the Service %s, which is not in the manifest", k, service)
		return
	}
	if !slices.ContainsFunc(c.m.Services[i].Spec.Ports, func(p corev1.ServicePort) bool { return strconv.Itoa(int(p.Port)) == u.Port() }) {
		c.errorf(d, "%s port %q is not a port of the Service %s", k, u.Port(), service)
	}
}

func (c *checker) hpa(d *appsv1.Deployment, side Side) {
	var n int
	for _, h := range c.m.HPAs {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.Name != d.Name {
			continue
		}
		n++
		if side.HPAMax == 0 {
			c.errorf(h, "scales %s, whose replicas are fixed at %d", d.Name, side.Replicas)
			continue
		}
		if ref.APIVersion != "apps/v1" {
			c.errorf(h, "scaleTargetRef.apiVersion %q, want apps/v1", ref.APIVersion)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != side.HPAMin || h.Spec.MaxReplicas != side.HPAMax {
			c.errorf(h, "replicas %s..%d, want %d..%d", ptrString(h.Spec.MinReplicas), h.Spec.MaxReplicas, side.HPAMin, side.HPAMax)
		}
		cpu := slices.ContainsFunc(h.Spec.Metrics, func(m autoscalingv2.MetricSpec) bool {
			return m.Resource != nil && m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil &&
				*m.Resource.Target.AverageUtilization > 0 && *m.Resource.Target.AverageUtilization <= 100
		})
		if !cpu {
			c.errorf(h, "no CPU utilization target (1..100%%)")
		}
	}
	if side.HPAMax > 0 && n != 1 {
		c.errorf(d, "%d HorizontalPodAutoscalers scale it, want exactly one (%d..%d on CPU)", n, side.HPAMin, side.HPAMax)
	}
}

// pdb: exactly one budget selects the pods, and at the minimum pod count it lets a drain
// proceed (at least one disruption) while keeping minAvailable pods serving.
func (c *checker) pdb(d *appsv1.Deployment, pods int32) {
	var n int
	for _, p := range c.m.PDBs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		n++
		var allowed int
		switch {
		case p.Spec.MaxUnavailable != nil && p.Spec.MinAvailable == nil:
			v, err := intstr.GetScaledValueFromIntOrPercent(p.Spec.MaxUnavailable, int(pods), true)
			if err != nil {
				c.errorf(p, "maxUnavailable: %v", err)
				continue
			}
			allowed = v
		case p.Spec.MinAvailable != nil && p.Spec.MaxUnavailable == nil:
			v, err := intstr.GetScaledValueFromIntOrPercent(p.Spec.MinAvailable, int(pods), true)
			if err != nil {
				c.errorf(p, "minAvailable: %v", err)
				continue
			}
			allowed = int(pods) - v
		default:
			c.errorf(p, "set exactly one of minAvailable and maxUnavailable")
			continue
		}
		if allowed < 1 {
			c.errorf(p, "allows no disruption of %s at %d pods: node drains would hang", d.Name, pods)
		}
		if int(pods)-allowed < minAvailable {
			c.errorf(p, "lets %s drop to %d of %d pods, want at least %d serving", d.Name, int(pods)-allowed, pods, minAvailable)
		}
	}
	if n != 1 {
		c.errorf(d, "%d PodDisruptionBudgets select its pods, want exactly one", n)
	}
}

// network checks what the NetworkPolicies selecting this Deployment's pods allow.
func (c *checker) network(d *appsv1.Deployment, name string, side Side) {
	podLabels := labels.Set(d.Spec.Template.Labels)
	var ingressPolicy, egressPolicy bool
	egress := map[string]string{} // destination -> policy
	for _, np := range c.m.NetworkPolicies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(podLabels) {
			continue
		}
		for _, t := range np.Spec.PolicyTypes {
			ingressPolicy = ingressPolicy || t == networkingv1.PolicyTypeIngress
			egressPolicy = egressPolicy || t == networkingv1.PolicyTypeEgress
		}
		for _, rule := range np.Spec.Ingress {
			if len(rule.Ports) == 0 {
				c.errorf(np, "an ingress rule without ports opens every port of %s", d.Name)
			}
			for _, p := range rule.Ports {
				if protocol(p.Protocol) != corev1.ProtocolTCP || p.Port == nil || (p.Port.IntValue() != httpPort && p.Port.String() != "http") {
					c.errorf(np, "ingress to %s on %s/%s: only %d/TCP is served", d.Name, portString(p.Port), protocol(p.Protocol), httpPort)
				}
			}
		}
		for _, rule := range np.Spec.Egress {
			if len(rule.To) == 0 || len(rule.Ports) == 0 {
				c.errorf(np, "an egress rule without destinations or ports lets %s reach anything", d.Name)
				continue
			}
			for _, peer := range rule.To {
				for _, p := range rule.Ports {
					egress[c.peer(peer)+":"+portString(p.Port)+"/"+string(protocol(p.Protocol))] = np.Name
				}
			}
		}
	}
	for _, p := range []struct {
		kind       string
		restricted bool
	}{{"ingress", ingressPolicy}, {"egress", egressPolicy}} {
		if !p.restricted {
			c.errorf(d, "no NetworkPolicy restricts its pods' %s: it is open (the base's default deny selects %s=%s)", p.kind, LabelPartOf, partOf)
		}
	}
	for _, dest := range side.Egress {
		if _, ok := egress[dest]; !ok {
			c.errorf(d, "no NetworkPolicy lets its pods reach %s", dest)
		}
	}
	for _, dest := range sortedKeys(egress) {
		if !slices.Contains(side.Egress, dest) && !slices.Contains(side.OptionalEgress, dest) {
			c.errorf(d, "NetworkPolicy %s lets %s pods reach %s; they may reach only %v", egress[dest], name, dest, append(side.Egress, side.OptionalEgress...))
		}
	}
}

// peer names an egress destination: an external.yaml key, "dns", or "pods:<component>".
func (c *checker) peer(p networkingv1.NetworkPolicyPeer) string {
	switch {
	case p.IPBlock != nil:
		if len(p.IPBlock.Except) == 0 {
			if key, ok := c.cidrKey[p.IPBlock.CIDR]; ok {
				return key
			}
		}
		return fmt.Sprintf("ipBlock %s except %v (not in external.yaml)", p.IPBlock.CIDR, p.IPBlock.Except)
	case p.NamespaceSelector != nil:
		ns, pods := p.NamespaceSelector.MatchLabels, map[string]string{}
		if p.PodSelector != nil {
			pods = p.PodSelector.MatchLabels
		}
		if len(ns) == 1 && ns["kubernetes.io/metadata.name"] == "kube-system" && len(pods) == 1 && pods["k8s-app"] == "kube-dns" &&
			len(p.NamespaceSelector.MatchExpressions) == 0 && (p.PodSelector == nil || len(p.PodSelector.MatchExpressions) == 0) {
			return "dns"
		}
		return fmt.Sprintf("namespaces %s pods %s", metav1.FormatLabelSelector(p.NamespaceSelector), metav1.FormatLabelSelector(p.PodSelector))
	case p.PodSelector != nil:
		sel, err := metav1.LabelSelectorAsSelector(p.PodSelector)
		var sides []string
		for _, d := range c.m.Deployments {
			if err == nil && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				sides = append(sides, d.Labels[LabelComponent])
			}
		}
		if len(sides) == 0 {
			return fmt.Sprintf("pods %s (no Deployment)", metav1.FormatLabelSelector(p.PodSelector))
		}
		return "pods:" + strings.Join(sides, ",")
	}
	return "anywhere"
}

// selectorsMatch: every Service, PodDisruptionBudget and NetworkPolicy selects the pods of
// at least one Deployment, and a Service's target port is a port those pods have.
func (c *checker) selectorsMatch() {
	matching := func(sel labels.Selector) []*appsv1.Deployment {
		var out []*appsv1.Deployment
		for _, d := range c.m.Deployments {
			if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				out = append(out, d)
			}
		}
		return out
	}
	for _, s := range c.m.Services {
		if s.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		if len(s.Spec.Selector) == 0 {
			c.errorf(s, "no selector")
			continue
		}
		ds := matching(labels.SelectorFromSet(s.Spec.Selector))
		if len(ds) == 0 {
			c.errorf(s, "selector %v selects no Deployment's pods", s.Spec.Selector)
		}
		for _, p := range s.Spec.Ports {
			for _, d := range ds {
				if !slices.ContainsFunc(d.Spec.Template.Spec.Containers, func(ct corev1.Container) bool {
					return slices.ContainsFunc(ct.Ports, func(cp corev1.ContainerPort) bool {
						return (p.TargetPort.Type == intstr.String && cp.Name == p.TargetPort.StrVal) ||
							(p.TargetPort.Type == intstr.Int && cp.ContainerPort == p.TargetPort.IntVal)
					})
				}) {
					c.errorf(s, "targetPort %s is not a container port of %s", p.TargetPort.String(), d.Name)
				}
			}
		}
	}
	for _, p := range c.m.PDBs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || sel.Empty() || len(matching(sel)) == 0 {
			c.errorf(p, "selector %s selects no Deployment's pods", metav1.FormatLabelSelector(p.Spec.Selector))
		}
	}
	for _, np := range c.m.NetworkPolicies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || sel.Empty() || len(matching(sel)) == 0 {
			c.errorf(np, "podSelector %s selects no Deployment's pods", metav1.FormatLabelSelector(&np.Spec.PodSelector))
		}
	}
	for _, h := range c.m.HPAs {
		ref := h.Spec.ScaleTargetRef
		if !slices.ContainsFunc(c.m.Deployments, func(d *appsv1.Deployment) bool { return ref.Kind == "Deployment" && d.Name == ref.Name }) {
			c.errorf(h, "scaleTargetRef %s/%s is not a Deployment of the manifest", ref.Kind, ref.Name)
		}
	}
}

// splitImage returns an image's repository and its ":tag" and/or "@digest" part.
func splitImage(image string) (repo, ref string) {
	if i := strings.Index(image, "@"); i >= 0 {
		repo, ref = image[:i], image[i:]
	} else {
		repo = image
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, ref = repo[:i], repo[i:]+ref
	}
	return repo, ref
}

func protocol(p *corev1.Protocol) corev1.Protocol {
	if p == nil {
		return corev1.ProtocolTCP
	}
	return *p
}

func portString(p *intstr.IntOrString) string {
	if p == nil {
		return "all"
	}
	return p.String()
}

func ptrString[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
