package compose

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
)

// Side is one application service of the split deployment: the build tags of its binary
// and the environment that binary reads (cmd/switchyard/config.go is the source of truth).
type Side struct {
	Service    string
	GoTags     string
	Repository string
	// Required variables, each with the rule its value must satisfy.
	Required map[string]envRule
	// Optional variables: checked when present.
	Optional map[string]envRule
	// Foreign variables belong to modules this binary does not link: the binary ignores
	// them (or fails on them), so their presence is a wiring mistake.
	Foreign []string
}

// envRule checks one variable's value and returns the services the value points at
// (which the application service must then wait for, healthy).
type envRule func(p *types.Project, svc types.ServiceConfig, value string) (deps []string, err error)

// Sides are the split deployment's application services.
var Sides = []Side{
	{
		Service: "command", GoTags: "command", Repository: "ghcr.io/switchyardhq/switchyard-command",
		Required: map[string]envRule{
			"SWITCHYARD_ADDR":         listenAddr,
			"SWITCHYARD_DATA_DIR":     dataDir,
			"SWITCHYARD_BUS":          equals("async"),
			"SWITCHYARD_NATS_URL":     natsURL,
			"SWITCHYARD_FLAGS_DSN":    postgresDSN,
			"SWITCHYARD_AUDIT_DSN":    postgresDSN,
			"SWITCHYARD_ADMIN_TOKENS": adminTokens,
		},
		Optional: map[string]envRule{"SWITCHYARD_SEED_FILE": seedFile},
		Foreign:  []string{"SWITCHYARD_EVALUATION_DSN", "SWITCHYARD_PUSH_TOKENS"},
	},
	{
		Service: "read", GoTags: "read", Repository: "ghcr.io/switchyardhq/switchyard-read",
		Required: map[string]envRule{
			"SWITCHYARD_ADDR":           listenAddr,
			"SWITCHYARD_DATA_DIR":       dataDir,
			"SWITCHYARD_BUS":            equals("async"),
			"SWITCHYARD_NATS_URL":       natsURL,
			"SWITCHYARD_EVALUATION_DSN": postgresDSN,
			"SWITCHYARD_ADMIN_TOKENS":   adminTokens,
		},
		Foreign: []string{"SWITCHYARD_FLAGS_DSN", "SWITCHYARD_AUDIT_DSN", "SWITCHYARD_SEED_FILE",
			"SWITCHYARD_PUSH_URL", "SWITCHYARD_PUSH_TOKEN"},
	},
}

// BackingServices must exist, each with a health check (the application services wait on it).
var BackingServices = []string{"postgres", "nats", "redis"}

// NonRootUser is distroless's "nonroot" uid:gid, the user the image runs as.
const NonRootUser = "65532:65532"

// Check applies the project's rules to a loaded compose project; repoRoot is the absolute
// path of the repository (the build context). It returns every problem found, sorted.
func Check(p *types.Project, repoRoot string) []string {
	c := &checker{p: p, root: repoRoot}
	for name, svc := range p.Services {
		c.image(name, svc)
	}
	for _, name := range BackingServices {
		svc, ok := p.Services[name]
		if !ok {
			c.addf("service %s is missing", name)
			continue
		}
		c.healthcheck(name, svc)
	}
	c.postgres()
	c.nats()
	for _, side := range Sides {
		svc, ok := p.Services[side.Service]
		if !ok {
			c.addf("service %s is missing", side.Service)
			continue
		}
		c.side(side, svc)
		c.healthcheck(side.Service, svc)
		if hc := svc.HealthCheck; hc != nil && !slices.Equal(hc.Test, []string{"CMD", "/switchyard", "healthcheck"}) {
			c.addf("service %s: health check %q, want the binary's own [CMD /switchyard healthcheck] (the image has no shell)", side.Service, hc.Test)
		}
	}
	sort.Strings(c.problems)
	return c.problems
}

type checker struct {
	p        *types.Project
	root     string
	problems []string
}

func (c *checker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// image: every image names an explicit version (tag other than latest, or a digest).
func (c *checker) image(name string, svc types.ServiceConfig) {
	if svc.Image == "" {
		c.addf("service %s: no image name (an untagged build cannot be told apart from the next one)", name)
		return
	}
	ref, err := reference.ParseNormalizedNamed(svc.Image)
	if err != nil {
		c.addf("service %s: image %q does not parse: %v", name, svc.Image, err)
		return
	}
	if _, ok := ref.(reference.Digested); ok {
		return
	}
	tagged, ok := ref.(reference.Tagged)
	switch {
	case !ok:
		c.addf("service %s: image %q has no tag (that means latest): pin a version", name, svc.Image)
	case tagged.Tag() == "latest":
		c.addf("service %s: image %q uses the latest tag: pin a version", name, svc.Image)
	}
}

func (c *checker) healthcheck(name string, svc types.ServiceConfig) {
	hc := svc.HealthCheck
	if hc == nil || hc.Disable || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		c.addf("service %s: no health check (services wait for it with condition service_healthy)", name)
	}
}

func (c *checker) postgres() {
	svc, ok := c.p.Services["postgres"]
	if !ok {
		return
	}
	if !hasVolume(svc, "/var/lib/postgresql/data", types.VolumeTypeVolume) {
		c.addf("service postgres: /var/lib/postgresql/data is not on a named volume (data would die with the container)")
	}
	if value(svc, "POSTGRES_PASSWORD") == "" {
		c.addf("service postgres: POSTGRES_PASSWORD is not set (the image refuses to start without it)")
	}
}

// nats: JetStream on, its store on a volume, and the health check probing the monitoring port.
func (c *checker) nats() {
	svc, ok := c.p.Services["nats"]
	if !ok {
		return
	}
	args := []string(svc.Command)
	if !slices.Contains(args, "-js") && !slices.Contains(args, "--jetstream") {
		c.addf("service nats: command %q does not enable JetStream (-js); the event stream needs it", args)
	}
	if store := argValue(args, "-sd", "--store_dir"); store == "" || !hasVolume(svc, store, types.VolumeTypeVolume) {
		c.addf("service nats: the JetStream store (-sd %q) is not on a named volume", store)
	}
	monitor := argValue(args, "-m", "--http_port")
	if monitor == "" {
		c.addf("service nats: no monitoring port (-m): the health check has nothing to probe")
	} else if hc := svc.HealthCheck; hc != nil && !strings.Contains(strings.Join(hc.Test, " "), ":"+monitor+"/healthz") {
		c.addf("service nats: the health check %q does not probe the monitoring port's /healthz (:%s/healthz)", hc.Test, monitor)
	}
}

func (c *checker) side(side Side, svc types.ServiceConfig) {
	name := side.Service
	c.build(side, svc)
	if ref, err := reference.ParseNormalizedNamed(svc.Image); err == nil && ref.Name() != side.Repository {
		c.addf("service %s: image repository %s, want %s (the name the Kubernetes overlays deploy)", name, ref.Name(), side.Repository)
	}
	if len(svc.Command) == 0 || svc.Command[0] != "serve" {
		c.addf("service %s: command %q, want [serve]", name, []string(svc.Command))
	}
	if svc.User != NonRootUser {
		c.addf("service %s: user %q, want %q (distroless nonroot)", name, svc.User, NonRootUser)
	}
	if !svc.ReadOnly {
		c.addf("service %s: read_only is not set (the root filesystem must be read-only)", name)
	}
	if !slices.Contains([]string(svc.Tmpfs), "/tmp") && !hasVolume(svc, "/tmp", types.VolumeTypeTmpfs) {
		c.addf("service %s: no tmpfs on /tmp (a read-only root leaves no scratch space)", name)
	}
	if !slices.Contains(svc.CapDrop, "ALL") {
		c.addf("service %s: cap_drop does not include ALL", name)
	}

	var deps []string
	check := func(key string, rule envRule) {
		d, err := rule(c.p, svc, value(svc, key))
		if err != nil {
			c.addf("service %s: %s: %v", name, key, err)
		}
		deps = append(deps, d...)
	}
	for _, key := range sortedKeys(side.Required) {
		if _, ok := svc.Environment[key]; !ok {
			c.addf("service %s: %s is not set (the %s binary needs it)", name, key, side.GoTags)
			continue
		}
		check(key, side.Required[key])
	}
	for _, key := range sortedKeys(side.Optional) {
		if _, ok := svc.Environment[key]; ok {
			check(key, side.Optional[key])
		}
	}
	for _, key := range side.Foreign {
		if _, ok := svc.Environment[key]; ok {
			c.addf("service %s: %s belongs to a module the %s binary does not link: remove it", name, key, side.GoTags)
		}
	}
	slices.Sort(deps)
	for _, dep := range slices.Compact(deps) {
		if got := svc.DependsOn[dep].Condition; got != types.ServiceConditionHealthy {
			c.addf("service %s: depends_on %s has condition %q, want %s (its configuration points at %s)",
				name, dep, got, types.ServiceConditionHealthy, dep)
		}
	}
}

var goTagsArg = regexp.MustCompile(`(?m)^\s*ARG\s+GO_TAGS(=.*)?\s*$`)

// build: repository root as context, deploy/Dockerfile (which must take the GO_TAGS
// argument, or the tags would silently not apply), and this side's tags.
func (c *checker) build(side Side, svc types.ServiceConfig) {
	name := side.Service
	b := svc.Build
	if b == nil {
		c.addf("service %s: no build section (it must build deploy/Dockerfile with GO_TAGS=%s)", name, side.GoTags)
		return
	}
	if filepath.Clean(b.Context) != filepath.Clean(c.root) {
		c.addf("service %s: build context %s, want the repository root %s", name, b.Context, c.root)
	}
	dockerfile := b.Dockerfile
	if !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(b.Context, dockerfile)
	}
	want := filepath.Join(c.root, "deploy", "Dockerfile")
	if filepath.Clean(dockerfile) != want {
		c.addf("service %s: dockerfile %s, want %s", name, dockerfile, want)
	} else if text, err := os.ReadFile(want); err != nil {
		c.addf("service %s: read the Dockerfile: %v", name, err)
	} else if !goTagsArg.Match(text) {
		c.addf("service %s: %s declares no ARG GO_TAGS: the build argument would be ignored", name, want)
	}
	if got := b.Args["GO_TAGS"]; got == nil || *got != side.GoTags {
		c.addf("service %s: build arg GO_TAGS = %s, want %q", name, deref(got), side.GoTags)
	}
}

func equals(want string) envRule {
	return func(_ *types.Project, _ types.ServiceConfig, v string) ([]string, error) {
		if v != want {
			return nil, fmt.Errorf("%q, want %q", v, want)
		}
		return nil, nil
	}
}

// listenAddr: reachable from other containers (not loopback), on a port the service publishes.
func listenAddr(_ *types.Project, svc types.ServiceConfig, v string) ([]string, error) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return nil, fmt.Errorf("%q is not host:port: %w", v, err)
	}
	if host != "" && host != "0.0.0.0" && host != "::" {
		return nil, fmt.Errorf("%q listens on %s only: other containers and the published port cannot reach it", v, host)
	}
	for _, p := range svc.Ports {
		if fmt.Sprint(p.Target) == port {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%q: container port %s is not in ports", v, port)
}

// dataDir: an absolute path on a named volume (the root filesystem is read-only).
func dataDir(_ *types.Project, svc types.ServiceConfig, v string) ([]string, error) {
	if !filepath.IsAbs(v) {
		return nil, fmt.Errorf("%q is not an absolute path", v)
	}
	if !hasVolume(svc, v, types.VolumeTypeVolume) {
		return nil, fmt.Errorf("%q is not on a named volume (the root filesystem is read-only)", v)
	}
	return nil, nil
}

// natsURL: nats://<service>:4222 of a service in this project.
func natsURL(p *types.Project, _ types.ServiceConfig, v string) ([]string, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "nats" || u.Hostname() == "" {
		return nil, fmt.Errorf("%q is not a nats://host:port URL", v)
	}
	if _, ok := p.Services[u.Hostname()]; !ok {
		return nil, fmt.Errorf("%q: host %s is not a service of this project", v, u.Hostname())
	}
	if port := u.Port(); port != "" && port != "4222" {
		return nil, fmt.Errorf("%q: NATS clients listen on 4222, not %s", v, port)
	}
	return []string{u.Hostname()}, nil
}

// postgresDSN: postgres://user:password@<service>:5432/db with the credentials and database
// the PostgreSQL service is created with.
func postgresDSN(p *types.Project, _ types.ServiceConfig, v string) ([]string, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Hostname() == "" {
		return nil, fmt.Errorf("not a postgres://user:password@host:5432/db URL")
	}
	host := u.Hostname()
	db, ok := p.Services[host]
	if !ok {
		return nil, fmt.Errorf("host %s is not a service of this project", host)
	}
	if port := u.Port(); port != "" && port != "5432" {
		return nil, fmt.Errorf("port %s, PostgreSQL listens on 5432", port)
	}
	password, _ := u.User.Password()
	for _, m := range []struct{ what, got, key string }{
		{"user", u.User.Username(), "POSTGRES_USER"},
		{"password", password, "POSTGRES_PASSWORD"},
		{"database", strings.TrimPrefix(u.Path, "/"), "POSTGRES_DB"},
	} {
		if want := value(db, m.key); want != "" && m.got != want {
			return nil, fmt.Errorf("the %s does not match the %s service's %s", m.what, host, m.key)
		}
	}
	return []string{host}, nil
}

var tokenName = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

// adminTokens mirrors cmd/switchyard's parseTokens: name:token pairs, tokens of at least
// 16 characters, names and tokens unique.
func adminTokens(_ *types.Project, _ types.ServiceConfig, v string) ([]string, error) {
	names, secrets := map[string]bool{}, map[string]bool{}
	for i, pair := range strings.Split(v, ",") {
		name, secret, ok := strings.Cut(strings.TrimSpace(pair), ":")
		switch {
		case !ok:
			return nil, fmt.Errorf("entry %d is not name:token", i+1)
		case !tokenName.MatchString(name):
			return nil, fmt.Errorf("entry %d: bad name %q", i+1, name)
		case len(secret) < 16:
			return nil, fmt.Errorf("entry %d (%s): token shorter than 16 characters; the binary refuses it", i+1, name)
		case names[name] || secrets[secret]:
			return nil, fmt.Errorf("entry %d (%s): name or token repeated", i+1, name)
		}
		names[name], secrets[secret] = true, true
	}
	return nil, nil
}

// seedFile: the path is a read-only bind mount of a file that exists.
func seedFile(_ *types.Project, svc types.ServiceConfig, v string) ([]string, error) {
	for _, vol := range svc.Volumes {
		if vol.Target != v {
			continue
		}
		if vol.Type != types.VolumeTypeBind || !vol.ReadOnly {
			return nil, fmt.Errorf("%q must be a read-only bind mount", v)
		}
		if st, err := os.Stat(vol.Source); err != nil || st.IsDir() {
			return nil, fmt.Errorf("%q: bind source %s is not a file", v, vol.Source)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%q is not mounted into the container", v)
}

func hasVolume(svc types.ServiceConfig, target, typ string) bool {
	for _, v := range svc.Volumes {
		if v.Target == target && v.Type == typ {
			return true
		}
	}
	return false
}

// value is an environment variable's value, "" when unset.
func value(svc types.ServiceConfig, key string) string {
	if v := svc.Environment[key]; v != nil {
		return *v
	}
	return ""
}

// deref shows an optional value in a message.
func deref(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

// argValue finds the value of a command-line option given as "-x value" or "-x=value".
func argValue(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v
			}
		}
	}
	return ""
}

func sortedKeys(m map[string]envRule) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
