package k8s

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// overlays are the deployable overlays and the components each must run.
var overlays = []struct {
	dir   string
	sides []string
}{
	{"overlays/split", []string{"command", "read"}},
	{"overlays/monolith", []string{"monolith"}},
}

var (
	renderer     Renderer
	rendererErr  error
	rendererOnce sync.Once
	renderedMu   sync.Mutex
	renderCache  = map[string][]byte{} // dir -> output: the overlays are rendered once per run
)

// render runs kustomize on dir (relative to this package).
func render(t *testing.T, dir string) []byte {
	t.Helper()
	rendererOnce.Do(func() { renderer, rendererErr = FindRenderer() })
	if rendererErr != nil {
		t.Fatal(rendererErr)
	}
	renderedMu.Lock()
	out, ok := renderCache[dir]
	renderedMu.Unlock()
	if ok {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := renderer.Render(ctx, dir)
	if err != nil {
		t.Fatalf("render %s: %v", dir, err)
	}
	renderedMu.Lock()
	renderCache[dir] = out
	renderedMu.Unlock()
	return out
}

// external reads an overlay's external.yaml (strictly, as the ConfigMap it is).
func external(t *testing.T, overlay string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(overlay, "external.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(data)
	if err != nil {
		t.Fatalf("%s/external.yaml: %v", overlay, err)
	}
	if len(m.ConfigMaps) != 1 || m.ConfigMaps[0].Name != "switchyard-external" {
		t.Fatalf("%s/external.yaml must hold the one ConfigMap switchyard-external", overlay)
	}
	cm := m.ConfigMaps[0]
	if cm.Annotations["config.kubernetes.io/local-config"] != "true" {
		t.Fatalf("%s/external.yaml lacks config.kubernetes.io/local-config: \"true\": kustomize would deploy it", overlay)
	}
	return cm.Data
}

// TestOverlays renders each overlay, decodes every object strictly and applies the
// project's rules to the result.
func TestOverlays(t *testing.T) {
	for _, o := range overlays {
		t.Run(filepath.Base(o.dir), func(t *testing.T) {
			m, err := Decode(render(t, o.dir))
			if err != nil {
				t.Fatalf("strict decoding: %v", err)
			}
			for _, err := range Check(m, Topology{Sides: o.sides, External: external(t, o.dir)}) {
				t.Error(err)
			}
			for _, cm := range m.ConfigMaps {
				if cm.Name == "switchyard-external" {
					t.Error("the local-config ConfigMap switchyard-external was rendered: it would be deployed")
				}
			}
		})
	}
}

// TestExampleSecretsAreRefused: the credentials committed with the overlays are examples
// that switchyard refuses to start with (an admin token shorter than 16 characters), so a
// deploy that forgot to replace them fails at once instead of running with known secrets.
func TestExampleSecretsAreRefused(t *testing.T) {
	const minTokenLength = 16 // cmd/switchyard's MinTokenLength
	for _, o := range overlays {
		t.Run(filepath.Base(o.dir), func(t *testing.T) {
			m, err := Decode(render(t, o.dir))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Secrets) == 0 {
				t.Fatal("no Secret rendered")
			}
			for _, s := range m.Secrets {
				tokens := string(s.Data["SWITCHYARD_ADMIN_TOKENS"])
				if tokens == "" {
					t.Errorf("Secret %s: no SWITCHYARD_ADMIN_TOKENS", s.Name)
				}
				for _, pair := range strings.Split(tokens, ",") {
					if _, token, _ := strings.Cut(pair, ":"); len(token) >= minTokenLength {
						t.Errorf("Secret %s: admin token %q is long enough to be accepted: commit only refused examples", s.Name, pair)
					}
				}
				for k, v := range s.Data {
					if !strings.HasSuffix(k, "_DSN") {
						continue
					}
					u, err := url.Parse(string(v))
					if err != nil {
						t.Errorf("Secret %s: %s: %v", s.Name, k, err)
						continue
					}
					if pw, _ := u.User.Password(); pw != "REPLACE-ME" {
						t.Errorf("Secret %s: %s carries a password other than the REPLACE-ME example", s.Name, k)
					}
				}
			}
		})
	}
}

// TestSidesRollIndependently: a change to one side's image or configuration changes that
// side's Deployment only, so rolling out the read side never restarts the command side
// (and the other way round). Each case wraps the split overlay in a throwaway overlay.
func TestSidesRollIndependently(t *testing.T) {
	split, err := filepath.Abs("overlays/split")
	if err != nil {
		t.Fatal(err)
	}
	baseline, err := Decode(render(t, split))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, changed, unchanged, kustomization string
	}{
		{"read image", "switchyard-read", "switchyard-command",
			"images:\n  - name: ghcr.io/switchyardhq/switchyard-read\n    newTag: 0.1.1-test\n"},
		{"read config", "switchyard-read", "switchyard-command",
			"configMapGenerator:\n  - name: switchyard-read-config\n    behavior: merge\n    literals: [SWITCHYARD_LOG_LEVEL=debug]\n"},
		{"read secret", "switchyard-read", "switchyard-command",
			"secretGenerator:\n  - name: switchyard-read\n    behavior: merge\n    literals: [SWITCHYARD_ADMIN_TOKENS=ops:OTHER]\n"},
		{"command image", "switchyard-command", "switchyard-read",
			"images:\n  - name: ghcr.io/switchyardhq/switchyard-command\n    newTag: 0.1.1-test\n"},
		{"command config", "switchyard-command", "switchyard-read",
			"configMapGenerator:\n  - name: switchyard-command-config\n    behavior: merge\n    literals: [SWITCHYARD_LOG_LEVEL=debug]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rel, err := filepath.Rel(dir, split) // kustomize refuses absolute paths
			if err != nil {
				t.Fatal(err)
			}
			k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + rel + "\n" + tc.kustomization
			if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
				t.Fatal(err)
			}
			changed, err := Decode(render(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(template(t, baseline, tc.changed), template(t, changed, tc.changed)) {
				t.Fatalf("%s's pod template did not change: the test's change had no effect", tc.changed)
			}
			if !reflect.DeepEqual(template(t, baseline, tc.unchanged), template(t, changed, tc.unchanged)) {
				t.Errorf("%s's pod template changed too: rolling out %s would restart %s", tc.unchanged, tc.changed, tc.unchanged)
			}
		})
	}
}

func template(t *testing.T, m *Manifest, deployment string) corev1.PodTemplateSpec {
	t.Helper()
	for _, d := range m.Deployments {
		if d.Name == deployment {
			return d.Spec.Template
		}
	}
	t.Fatalf("no Deployment %s", deployment)
	return corev1.PodTemplateSpec{}
}

// TestBrokenFixturesFail: each fixture under testdata/ breaks one rule of a real overlay,
// and the checks must report exactly that. Every fixture must also change the rendered
// output: a patch whose target matches nothing is dropped silently, and such a fixture
// would prove nothing.
func TestBrokenFixturesFail(t *testing.T) {
	for _, tc := range []struct {
		fixture, overlay, want string
	}{
		{"command-replicas-2", "split", "Deployment switchyard-command: replicas 2, want 3"},
		{"read-replicas-set", "split", "Deployment switchyard-read: replicas is set (5)"},
		{"monolith-replicas-1", "monolith", "Deployment switchyard: replicas 1, want 3"},
		{"pdb-selects-nothing", "split", "PodDisruptionBudget switchyard-command: selector app.kubernetes.io/component=comand,app.kubernetes.io/name=switchyard selects no Deployment's pods"},
		{"pdb-blocks-drains", "split", "PodDisruptionBudget switchyard-command: allows no disruption of switchyard-command at 3 pods"},
		{"misspelled-field", "split", `unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"misspelled-kind", "split", `no kind "Deploymnet" is registered`},
		{"hpa-max-60", "split", "HorizontalPodAutoscaler switchyard-read: replicas 3..60, want 3..50"},
		{"hpa-memory-only", "split", "HorizontalPodAutoscaler switchyard-read: no CPU utilization target"},
		{"no-liveness-probe", "split", "Deployment switchyard-read: no liveness probe"},
		{"readiness-on-healthz", "split", `Deployment switchyard-command: readiness probe path "/healthz", want "/readyz"`},
		{"no-memory-limit", "split", "Deployment switchyard-command: no memory limit"},
		{"runs-as-root", "split", "Deployment switchyard-read: pod securityContext.runAsUser 0, want 65532"},
		{"writable-root", "monolith", "Deployment switchyard: securityContext.readOnlyRootFilesystem must be true"},
		{"read-reaches-command-db", "split", "lets read pods reach dbCIDR:5432/TCP"},
		{"egress-anywhere", "split", "lets command pods reach ipBlock 0.0.0.0/0 except [] (not in external.yaml):443/TCP"},
		{"networkpolicy-selects-nothing", "split", "NetworkPolicy switchyard-read-ingress: podSelector app.kubernetes.io/component=reader,app.kubernetes.io/name=switchyard selects no Deployment's pods"},
		{"service-wrong-target-port", "split", "Service switchyard-read: targetPort metrics is not a container port of switchyard-read"},
		{"token-in-configmap", "split", "SWITCHYARD_ADMIN_TOKENS comes from a ConfigMap"},
		{"misspelled-env", "split", "variable SWITCHYARD_NATS_ULR is not one switchyard reads"},
		{"read-holds-command-dsn", "split", "Deployment switchyard-read: SWITCHYARD_FLAGS_DSN is set: this side must not hold it"},
		{"read-dsn-to-command-db", "split", `SWITCHYARD_EVALUATION_DSN names host "switchyard-db", want the Service switchyard-read-db`},
		{"image-latest", "split", `image "ghcr.io/switchyardhq/switchyard-read:latest" must be pinned`},
		{"external-name-overridden", "monolith", `Service switchyard-nats: externalName "nats.elsewhere.example.org", want external.yaml's natsHost "nats.example.com"`},
		{"sync-bus", "monolith", `Deployment switchyard: SWITCHYARD_BUS "sync", want async`},
		{"read-ingress-open", "split", "Deployment switchyard-read: no NetworkPolicy restricts its pods' ingress: it is open"},
		{"cidr-not-replaced", "split", "Deployment switchyard-read: no NetworkPolicy lets its pods reach readDbCIDR:5432/TCP"},
		{"command-secret-unlabelled", "split", `Secret switchyard-command-2ghcctch4k: belongs to switchyard-command but its app.kubernetes.io/component label is ""`},
		{"secret-name-typo", "monolith", `Deployment switchyard: envFrom Secret "switchyard-secret" is not in the manifest`},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			overlay := filepath.Join("overlays", tc.overlay)
			out := render(t, filepath.Join("testdata", tc.fixture))
			if bytes.Equal(out, render(t, overlay)) {
				t.Fatalf("testdata/%s renders exactly like %s: its patch matched nothing", tc.fixture, overlay)
			}
			m, err := Decode(out)
			errs := []error{err}
			if m != nil {
				errs = append(errs, Check(m, Topology{Sides: sidesOf(tc.overlay), External: external(t, overlay)})...)
			}
			got := errors.Join(errs...)
			if got == nil {
				t.Fatalf("testdata/%s passed every check; want %q", tc.fixture, tc.want)
			}
			if !strings.Contains(got.Error(), tc.want) {
				t.Fatalf("testdata/%s: want an error containing\n  %s\ngot\n  %s", tc.fixture, tc.want, strings.ReplaceAll(got.Error(), "\n", "\n  "))
			}
		})
	}
}

func sidesOf(overlay string) []string {
	for _, o := range overlays {
		if filepath.Base(o.dir) == overlay {
			return o.sides
		}
	}
	panic(fmt.Sprintf("no overlay %q", overlay))
}

// TestDecodeIsStrict: decoding refuses what the API server would reject or silently drop.
func TestDecodeIsStrict(t *testing.T) {
	const head = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"valid", head + "spec:\n  replicas: 3\n", ""},
		{"misspelled field", head + "spec:\n  replica: 3\n", `unknown field "spec.replica"`},
		{"duplicate field", head + "spec:\n  replicas: 3\n  replicas: 4\n", `"replicas" already set`},
		{"wrong type", head + "spec:\n  replicas: three\n", "cannot unmarshal"},
		{"unknown kind", "apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: d\n", `no kind "Deploymnet" is registered`},
		{"removed version", "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: p\n", `no kind "PodDisruptionBudget" is registered for version "policy/v1beta1"`},
		{"kind the project does not deploy", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n", "kind /v1, Kind=Pod is not one the project deploys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.doc))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want no error, got %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("want an error containing %q, got none", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}
