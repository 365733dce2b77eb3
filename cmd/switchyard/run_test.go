//go:build !command && !read

package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/httpx"
)

func runCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"switchyard"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestVersionAndUsage(t *testing.T) {
	out, err := runCmd(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "switchyard ") || !strings.Contains(out, "go1.") {
		t.Fatalf("version: %q, %v", out, err)
	}
	if _, err := runCmd(t, nil); err == nil {
		t.Fatal("no command must be an error")
	}
	if out, err := runCmd(t, nil, "serv"); err == nil || !strings.Contains(err.Error(), `unknown command "serv"`) || !strings.Contains(out, "usage:") {
		t.Fatalf("unknown command: %q, %v", out, err)
	}
}

func TestMigrateCreatesEachModulesSchemaWithItsOwnVersionTable(t *testing.T) {
	dir := t.TempDir()
	out, err := runCmd(t, map[string]string{"SWITCHYARD_DATA_DIR": dir}, "migrate")
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	for _, module := range migrations.Modules() {
		fsys, err := migrations.For(module, "sqlite")
		if err != nil {
			t.Fatal(err)
		}
		files, err := fs.Glob(fsys, "*.sql")
		if err != nil || len(files) == 0 {
			t.Fatalf("migrations of %s: %v %v", module, files, err)
		}
		latest := strings.SplitN(files[len(files)-1], "_", 2)[0]
		want := fmt.Sprintf("%s: schema version %s", module, strings.TrimLeft(latest, "0"))
		if !strings.Contains(out, want) {
			t.Errorf("migrate output lacks %q:\n%s", want, out)
		}
		db := openMigrated(t, dir, module) // applies nothing new
		var tables []string
		if err := db.Select(&tables, `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%schema_version'`); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
		if len(tables) != 1 || tables[0] != module+"_schema_version" {
			t.Errorf("%s.db version tables = %v, want [%s_schema_version]", module, tables, module)
		}
	}
	// Running it again is a no-op.
	if out, err := runCmd(t, map[string]string{"SWITCHYARD_DATA_DIR": dir}, "migrate"); err != nil {
		t.Fatalf("second migrate: %v\n%s", err, out)
	}
}

func TestConfigErrorsSayWhatToFix(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad bus", map[string]string{"SWITCHYARD_BUS": "kafka"}, nil, `SWITCHYARD_BUS "kafka" is invalid: use "sync" or "async"`},
		{"bad addr", map[string]string{"SWITCHYARD_ADDR": "8080"}, nil, `SWITCHYARD_ADDR "8080" is not host:port`},
		{"bad environment", map[string]string{"SWITCHYARD_ENVIRONMENT": "Prod"}, nil, `SWITCHYARD_ENVIRONMENT "Prod" is invalid`},
		{"bad log level", map[string]string{"SWITCHYARD_LOG_LEVEL": "loud"}, nil, `SWITCHYARD_LOG_LEVEL "loud" is invalid`},
		{"bad shutdown timeout", map[string]string{"SWITCHYARD_SHUTDOWN_TIMEOUT": "-1s"}, nil, "SWITCHYARD_SHUTDOWN_TIMEOUT"},
		{"outbox retention too short", map[string]string{"SWITCHYARD_OUTBOX_RETENTION": "30s"}, nil, `SWITCHYARD_OUTBOX_RETENTION "30s" is invalid: use a duration of at least 1m`},
		{"outbox retention not a duration", map[string]string{"SWITCHYARD_OUTBOX_RETENTION": "a week"}, nil, `SWITCHYARD_OUTBOX_RETENTION "a week" is invalid`},
		{"missing seed file", map[string]string{"SWITCHYARD_SEED_FILE": "/nonexistent/flags.json"}, nil, "SWITCHYARD_SEED_FILE"},
		{"token without name", map[string]string{"SWITCHYARD_ADMIN_TOKENS": "justasecretvalue1234"}, nil, "entry 1 is not name:token"},
		{"short token", map[string]string{"SWITCHYARD_ADMIN_TOKENS": "ci:short"}, nil, "at least 16 characters"},
		{"duplicate token name", map[string]string{"SWITCHYARD_ADMIN_TOKENS": "ci:aaaaaaaaaaaaaaaa,ci:bbbbbbbbbbbbbbbb"}, nil, `name "ci" appears twice`},
		{"reused secret", map[string]string{"SWITCHYARD_ADMIN_TOKENS": "a:aaaaaaaaaaaaaaaa,b:aaaaaaaaaaaaaaaa"}, nil, "reuses another entry's token"},
		{"no tokens off loopback", map[string]string{"SWITCHYARD_ADDR": "0.0.0.0:0"}, nil, "SWITCHYARD_ADMIN_TOKENS is required when listening on 0.0.0.0:0"},
		{"flag beats env", map[string]string{"SWITCHYARD_BUS": "sync"}, []string{"--bus", "fast"}, `SWITCHYARD_BUS "fast" is invalid`},
		{"stray argument", nil, []string{"now"}, `unexpected arguments ["now"]`},
		{"NATS URL that is not nats", map[string]string{"SWITCHYARD_BUS": "async", "SWITCHYARD_NATS_URL": "http://x:4222"}, nil, "SWITCHYARD_NATS_URL \"http://x:4222\" must be a nats://"},
		{"NATS with the sync bus", map[string]string{"SWITCHYARD_NATS_URL": "nats://127.0.0.1:4222"}, nil, "SWITCHYARD_NATS_URL needs SWITCHYARD_BUS=async"},
		{"DSN that is not postgres", map[string]string{"SWITCHYARD_FLAGS_DSN": "mysql://db/x"}, nil, "SWITCHYARD_FLAGS_DSN must be a postgres:// URL"},
		{"DSN without a host", map[string]string{"SWITCHYARD_AUDIT_DSN": "postgres:///x"}, nil, "SWITCHYARD_AUDIT_DSN must be a postgres:// URL with a host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := runCmd(t, env, append([]string{"serve"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestDevelopmentTokenIsGeneratedOnceAndKeptPrivate(t *testing.T) {
	dir := t.TempDir()
	cfg := config{Addr: "127.0.0.1:8080", DataDir: dir}
	if err := ensureAdminTokens(&cfg); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, devTokenFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	again := config{Addr: "localhost:9090", DataDir: dir}
	if err := ensureAdminTokens(&again); err != nil || again.DevToken != cfg.DevToken || len(cfg.DevToken) < MinTokenLength {
		t.Fatalf("second start token %q vs %q (%v): want the same kept token", again.DevToken, cfg.DevToken, err)
	}
}

func TestReadyzIsUnavailableUntilSnapshotsAreLoadedAndStartupIsDone(t *testing.T) {
	dir := t.TempDir()
	db := openMigrated(t, dir, "evaluation")
	t.Cleanup(func() { _ = db.Close() })
	logger := newLogger(discard{}, 8)
	eval, err := evaluation.New(evaluation.Deps{DB: db, Logger: logger, DefaultEnvironment: "development"})
	if err != nil {
		t.Fatal(err)
	}
	ready := &readiness{}
	e := httpx.NewEcho(logger)
	registerHealth(e, ready, eval)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}

	if rec := get("/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("healthz while starting: %d", rec.Code)
	}
	rec := get("/readyz")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "evaluation") ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), httpx.ProblemContentType) {
		t.Fatalf("readyz before snapshot load: %d %s", rec.Code, rec.Body)
	}
	if err := eval.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := get("/readyz"); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "starting or stopping") {
		t.Fatalf("readyz before startup finished: %d %s", rec.Code, rec.Body)
	}
	ready.set(true)
	if rec := get("/readyz"); rec.Code != http.StatusOK {
		t.Fatalf("readyz when ready: %d %s", rec.Code, rec.Body)
	}
}
