package k8s

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServerDryRun applies both overlays to a real kube-apiserver (v1.36.3, on etcd) with
// a server-side dry run. The server validates what strict decoding cannot: selectors
// against template labels, port ranges, HPA bounds, and the namespace's Pod Security
// "restricted" profile (its warnings fail the apply). Then each fixture under
// testdata/server/ must be refused; each decodes strictly, so only the server catches it.
func TestServerDryRun(t *testing.T) {
	bin := requireBin(t, "etcd", "kube-apiserver", "kubectl")
	cp := startControlPlane(t, bin)
	if out, err := cp.kubectl(nil, "version"); err != nil || !strings.Contains(out, "Server Version: v1.36.3") {
		t.Fatalf("want a v1.36.3 API server: %v\n%s", err, out)
	}

	for _, o := range overlays {
		t.Run(filepath.Base(o.dir), func(t *testing.T) {
			rendered := render(t, o.dir)
			out, err := cp.dryRun(rendered)
			if err != nil {
				t.Fatal(err)
			}
			// Every object was accepted, none skipped.
			want := strings.Count("\n"+string(rendered), "\nkind: ")
			if got := len(regexp.MustCompile(`(?m) serverside-applied \(server dry run\)$`).FindAllString(out, -1)); got != want {
				t.Fatalf("server accepted %d objects, the overlay has %d:\n%s", got, want, out)
			}
			t.Logf("%d objects accepted by the server (dry run)", want)
		})
	}

	for _, tc := range []struct {
		fixture, want string
	}{
		{"hpa-min-gt-max", "spec.maxReplicas: Invalid value: 50: must be greater than or equal to `minReplicas`"},
		{"selector-mismatch", "`selector` does not match template `labels`"},
		{"bad-port", "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 80800: must be between 1 and 65535"},
		{"service-port-missing", `The Service "switchyard-read" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535`},
		{"extra-capability", `would violate PodSecurity "restricted:latest": unrestricted capabilities`},
		{"pdb-both-bounds", "minAvailable and maxUnavailable cannot be both set"},
	} {
		t.Run("refuses/"+tc.fixture, func(t *testing.T) {
			rendered := render(t, filepath.Join("testdata", "server", tc.fixture))
			if _, err := Decode(rendered); err != nil {
				t.Fatalf("the fixture must decode strictly (the server is what should catch it): %v", err)
			}
			out, err := cp.dryRun(rendered)
			if err == nil {
				t.Fatalf("the server accepted testdata/server/%s; want %q:\n%s", tc.fixture, tc.want, out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want the server to say %q, got:\n%v", tc.want, err)
			}
		})
	}
}

// dryRun creates the manifest's Namespace for real (namespaced objects cannot be
// dry-run into a namespace that does not exist; its Pod Security labels must be in force),
// then applies everything with --server-side --dry-run=server; a warning fails the apply.
func (cp *controlPlane) dryRun(rendered []byte) (string, error) {
	if ns := documents(rendered, isNamespace); len(ns) > 0 {
		if out, err := cp.kubectl(ns, "apply", "--server-side", "--field-manager=switchyard-ci", "-f", "-"); err != nil {
			return out, err
		}
	}
	return cp.kubectl(rendered, "apply", "--server-side", "--dry-run=server", "--field-manager=switchyard-ci",
		"--warnings-as-errors", "-f", "-")
}
