package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/deploy/internal/yamlcase"
)

// paths of the repository, the project directory and the compose file, from deploy/compose.
func paths(t *testing.T) (root, deployDir, file string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("repository root: %v", err)
	}
	deployDir = filepath.Join(root, "deploy")
	return root, deployDir, filepath.Join(deployDir, "compose.yaml")
}

func TestComposeFileFollowsTheRules(t *testing.T) {
	root, deployDir, file := paths(t)
	p, err := Load(context.Background(), file, deployDir, nil)
	if err != nil {
		t.Fatalf("compose schema or consistency check failed: %v", err)
	}
	for _, problem := range Check(p, root) {
		t.Errorf("%s: %s", filepath.Base(file), problem)
	}
	for _, side := range Sides {
		if svc, ok := p.Services[side.Service]; ok && svc.Build != nil {
			t.Logf("%s: image %s, GO_TAGS=%s, %d environment variables, depends on %v",
				side.Service, svc.Image, deref(svc.Build.Args["GO_TAGS"]), len(svc.Environment), svc.GetDependencies())
		}
	}
}

// The secrets are interpolated from the environment (deploy/.env or the shell), not fixed
// in the file: what the operator sets is what both sides and PostgreSQL get.
func TestSecretsComeFromTheEnvironment(t *testing.T) {
	root, deployDir, file := paths(t)
	const (
		password = "operator-chosen-password-4f1c"
		tokens   = "ops:0123456789abcdef0123456789abcdef,ci:fedcba9876543210fedcba9876543210"
	)
	p, err := Load(context.Background(), file, deployDir, map[string]string{
		"POSTGRES_PASSWORD": password, "SWITCHYARD_ADMIN_TOKENS": tokens, "SWITCHYARD_IMAGE_TAG": "1f2e3d4",
	})
	if err != nil {
		t.Fatal(err)
	}
	if problems := Check(p, root); len(problems) > 0 {
		t.Errorf("with operator values set, Check reports:\n%s", strings.Join(problems, "\n"))
	}
	if got := value(p.Services["postgres"], "POSTGRES_PASSWORD"); got != password {
		t.Errorf("postgres POSTGRES_PASSWORD = %q, want the environment's %q", got, password)
	}
	for _, side := range Sides {
		svc := p.Services[side.Service]
		if got := value(svc, "SWITCHYARD_ADMIN_TOKENS"); got != tokens {
			t.Errorf("%s SWITCHYARD_ADMIN_TOKENS = %q, want the environment's value", side.Service, got)
		}
		if want := side.Repository + ":1f2e3d4"; svc.Image != want {
			t.Errorf("%s image = %q, want %q (SWITCHYARD_IMAGE_TAG)", side.Service, svc.Image, want)
		}
		for key := range side.Required {
			if strings.HasSuffix(key, "_DSN") && !strings.Contains(value(svc, key), ":"+password+"@") {
				t.Errorf("%s %s does not carry POSTGRES_PASSWORD", side.Service, key)
			}
		}
	}
}

// mutation edits the decoded compose document; it fails when the path it edits is absent,
// so a renamed key in compose.yaml cannot turn a case into a silent pass.
type mutation func(doc map[string]any) error

func set(path string, v any) mutation {
	return func(doc map[string]any) error {
		parent, key, err := walk(doc, path)
		if err != nil {
			return err
		}
		parent[key] = v
		return nil
	}
}

func del(path string) mutation {
	return func(doc map[string]any) error {
		parent, key, err := walk(doc, path)
		if err != nil {
			return err
		}
		if _, ok := parent[key]; !ok {
			return fmt.Errorf("%s: not in the document", path)
		}
		delete(parent, key)
		return nil
	}
}

// walk returns the map holding the last element of a dotted path; every map on the way must exist.
func walk(doc map[string]any, path string) (map[string]any, string, error) {
	keys := strings.Split(path, ".")
	m := doc
	for i, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("%s: no map at %s", path, strings.Join(keys[:i+1], "."))
		}
		m = next
	}
	return m, keys[len(keys)-1], nil
}

// Every rule is shown to catch the mistake it is there for, on a copy of the real file
// with one thing broken.
func TestRulesCatchBrokenVariants(t *testing.T) {
	root, deployDir, file := paths(t)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate mutation
		want   string
	}{
		{"read side built with command tags", set("services.read.build.args.GO_TAGS", "command"), `service read: build arg GO_TAGS = command, want "read"`},
		{"command side built without tags (monolith)", del("services.command.build.args.GO_TAGS"), `service command: build arg GO_TAGS = <unset>, want "command"`},
		{"another Dockerfile", set("services.command.build.dockerfile", "Dockerfile"), "service command: dockerfile"},
		{"build context not the repository", set("services.read.build.context", "."), "service read: build context"},
		{"no build section", del("services.read.build"), "service read: no build section"},
		{"latest tag", set("services.redis.image", "redis:latest"), `service redis: image "redis:latest" uses the latest tag`},
		{"no tag", set("services.postgres.image", "postgres"), `service postgres: image "postgres" has no tag`},
		{"app image tagged latest", set("services.command.image", "ghcr.io/switchyardhq/switchyard-command:latest"), "service command: image \"ghcr.io/switchyardhq/switchyard-command:latest\" uses the latest tag"},
		{"read image under the command name", set("services.read.image", "ghcr.io/switchyardhq/switchyard-command:dev"), "service read: image repository ghcr.io/switchyardhq/switchyard-command"},
		{"read lacks its DSN", del("services.read.environment.SWITCHYARD_EVALUATION_DSN"), "service read: SWITCHYARD_EVALUATION_DSN is not set"},
		{"command lacks the audit DSN", del("services.command.environment.SWITCHYARD_AUDIT_DSN"), "service command: SWITCHYARD_AUDIT_DSN is not set"},
		{"command lacks NATS", del("services.command.environment.SWITCHYARD_NATS_URL"), "service command: SWITCHYARD_NATS_URL is not set"},
		{"read carries the flags DSN", set("services.read.environment.SWITCHYARD_FLAGS_DSN", "postgres://switchyard:x@postgres:5432/switchyard"), "service read: SWITCHYARD_FLAGS_DSN belongs to a module the read binary does not link"},
		{"read seeds flags", set("services.read.environment.SWITCHYARD_SEED_FILE", "/etc/switchyard/seed/flags.json"), "service read: SWITCHYARD_SEED_FILE belongs to a module"},
		{"sync bus across containers", set("services.command.environment.SWITCHYARD_BUS", "sync"), `service command: SWITCHYARD_BUS: "sync", want "async"`},
		{"loopback listener", set("services.read.environment.SWITCHYARD_ADDR", "127.0.0.1:8080"), "service read: SWITCHYARD_ADDR: \"127.0.0.1:8080\" listens on 127.0.0.1 only"},
		{"listener port not published", set("services.read.environment.SWITCHYARD_ADDR", ":9090"), "container port 9090 is not in ports"},
		{"short admin token", set("services.command.environment.SWITCHYARD_ADMIN_TOKENS", "dev:short"), "token shorter than 16 characters"},
		{"DSN password differs from the database's", set("services.postgres.environment.POSTGRES_PASSWORD", "another-password"), "service command: SWITCHYARD_AUDIT_DSN: the password does not match the postgres service's POSTGRES_PASSWORD"},
		{"DSN to a host outside the project", set("services.read.environment.SWITCHYARD_EVALUATION_DSN", "postgres://switchyard:dev-only-postgres-password@db:5432/switchyard"), "service read: SWITCHYARD_EVALUATION_DSN: host db is not a service"},
		{"NATS host outside the project", set("services.read.environment.SWITCHYARD_NATS_URL", "nats://broker:4222"), "service read: SWITCHYARD_NATS_URL: \"nats://broker:4222\": host broker is not a service"},
		{"waits for NATS to start, not to be healthy", set("services.read.depends_on.nats.condition", "service_started"), `service read: depends_on nats has condition "service_started", want service_healthy`},
		{"does not wait for PostgreSQL", del("services.command.depends_on.postgres"), `service command: depends_on postgres has condition "", want service_healthy`},
		{"NATS without a health check", del("services.nats.healthcheck"), "service nats: no health check"},
		{"read side without a health check", del("services.read.healthcheck"), "service read: no health check"},
		{"command side checked with curl", set("services.command.healthcheck.test", []any{"CMD", "curl", "-f", "http://localhost:8080/readyz"}), "service command: health check"},
		{"PostgreSQL health check disabled", set("services.postgres.healthcheck", map[string]any{"disable": true}), "service postgres: no health check"},
		{"NATS without JetStream", set("services.nats.command", []any{"-sd", "/data", "-m", "8222"}), "does not enable JetStream"},
		{"NATS health check on the client port", set("services.nats.healthcheck.test", []any{"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:4222/healthz"}), "does not probe the monitoring port's /healthz (:8222/healthz)"},
		{"JetStream store in the container", set("services.nats.volumes", []any{}), "service nats: the JetStream store (-sd \"/data\") is not on a named volume"},
		{"PostgreSQL data in the container", del("services.postgres.volumes"), "service postgres: /var/lib/postgresql/data is not on a named volume"},
		{"runs as root", set("services.read.user", "0"), `service read: user "0", want "65532:65532"`},
		{"writable root filesystem", set("services.command.read_only", false), "service command: read_only is not set"},
		{"no /tmp", del("services.read.tmpfs"), "service read: no tmpfs on /tmp"},
		{"capabilities kept", del("services.read.cap_drop"), "service read: cap_drop does not include ALL"},
		{"data directory in the container", set("services.command.volumes", []any{"./seed/flags.json:/etc/switchyard/seed/flags.json:ro"}), "service command: SWITCHYARD_DATA_DIR: \"/data\" is not on a named volume"},
		{"seed file not mounted", set("services.command.volumes", []any{"command-data:/data"}), "service command: SWITCHYARD_SEED_FILE: \"/etc/switchyard/seed/flags.json\" is not mounted"},
		{"seed file missing on the host", set("services.command.volumes", []any{"command-data:/data", "./seed/absent.json:/etc/switchyard/seed/flags.json:ro"}), "bind source"},
		{"not serving", set("services.read.command", []any{"migrate"}), `service read: command ["migrate"], want [serve]`},
		{"Redis missing", del("services.redis"), "service redis is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			broken := yamlcase.Write(t, raw, "compose.yaml", tc.mutate)
			p, err := Load(context.Background(), broken, deployDir, nil)
			if err != nil {
				t.Fatalf("the broken variant should load and fail a rule, but loading failed: %v", err)
			}
			problems := Check(p, root)
			if !containsSubstring(problems, tc.want) {
				t.Errorf("no problem mentions %q; got:\n%s", tc.want, strings.Join(problems, "\n"))
			}
		})
	}
}

var wantLine = regexp.MustCompile(`(?m)^# want: (.+)$`)

// The fixtures in testdata/ are complete compose files, each wrong in the way its
// "# want:" lines name: the loader's schema and consistency checks or the rules must say so.
func TestBrokenFixturesFail(t *testing.T) {
	root, deployDir, _ := paths(t)
	fixtures, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures in testdata/ (%v)", err)
	}
	for _, fixture := range fixtures {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			raw, err := os.ReadFile(fixture)
			if err != nil {
				t.Fatal(err)
			}
			wants := wantLine.FindAllStringSubmatch(string(raw), -1)
			if len(wants) == 0 {
				t.Fatalf("%s has no '# want:' line", fixture)
			}
			var got []string
			p, err := Load(context.Background(), fixture, deployDir, nil)
			if err != nil {
				got = []string{err.Error()}
			} else {
				got = Check(p, root)
			}
			for _, w := range wants {
				if !containsSubstring(got, w[1]) {
					t.Errorf("nothing reports %q; got:\n%s", w[1], strings.Join(got, "\n"))
				}
			}
		})
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
