package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/outbox"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// Bus modes.
const (
	busSync  = "sync"
	busAsync = "async"
)

const devTokenFile = "dev-admin-token"

// config is everything serve and migrate need, from flags over environment over defaults.
type config struct {
	Addr            string
	DataDir         string
	Bus             string
	Environment     string
	SeedFile        string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	AdminTokens     []httpx.Token
	// DSNs maps a module to its PostgreSQL DSN; a module without one keeps SQLite in DataDir.
	DSNs map[string]string
	// NATSURL, with the async bus, carries events through NATS JetStream instead of in process.
	NATSURL string
	// Push is the sync bus between split pods (push_config.go).
	Push pushConfig
	// SDKTokens, when set, guard the definitions snapshot (GET /sdk/v1/flags.json).
	SDKTokens []httpx.Token
	// MaxEventStreams bounds the open OFREP change streams (GET /ofrep/v1/events).
	MaxEventStreams int
	// OutboxRetention is how long delivered outbox rows are kept before they are pruned.
	OutboxRetention time.Duration
	// MetricsTokens, when set, guard GET /metrics (bearer tokens a Prometheus scraper
	// sends); unset, /metrics is open to whoever reaches the listen address, as /healthz is.
	MetricsTokens []httpx.Token
	// DevToken is set when no tokens were configured and one was generated for a
	// loopback-only development server.
	DevToken string
}

type setting struct {
	flag, env, def, help string
	dst                  *string
}

func loadConfig(cmd string, args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var raw struct{ addr, dataDir, bus, env, seed, logLevel, shutdown string }
	settings := []setting{
		{"addr", "SWITCHYARD_ADDR", "127.0.0.1:8080", "address to listen on", &raw.addr},
		{"data-dir", "SWITCHYARD_DATA_DIR", "./data", "directory of the embedded databases", &raw.dataDir},
		{"bus", "SWITCHYARD_BUS", busSync, "event delivery between modules: sync (read-your-writes) or async", &raw.bus},
		{"environment", "SWITCHYARD_ENVIRONMENT", "development", "the default environment (OFREP evaluates in it; the seed goes to it)", &raw.env},
		{"seed-file", "SWITCHYARD_SEED_FILE", "", "flagd flag file loaded into the default environment on first start", &raw.seed},
		{"log-level", "SWITCHYARD_LOG_LEVEL", "info", "debug, info, warn or error", &raw.logLevel},
		{"shutdown-timeout", "SWITCHYARD_SHUTDOWN_TIMEOUT", "20s", "how long a graceful shutdown may take", &raw.shutdown},
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		fs.StringVar(s.dst, s.flag, def, fmt.Sprintf("%s (env %s)", s.help, s.env))
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("%s: unexpected arguments %q", cmd, fs.Args())
	}

	cfg := config{Addr: raw.addr, DataDir: raw.dataDir, Bus: raw.bus, Environment: raw.env, SeedFile: raw.seed}
	var errs []error
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		errs = append(errs, fmt.Errorf("SWITCHYARD_ADDR %q is not host:port: %w", cfg.Addr, err))
	}
	if strings.TrimSpace(cfg.DataDir) == "" {
		errs = append(errs, errors.New("SWITCHYARD_DATA_DIR must not be empty"))
	}
	if cfg.Bus != busSync && cfg.Bus != busAsync {
		errs = append(errs, fmt.Errorf("SWITCHYARD_BUS %q is invalid: use %q or %q", cfg.Bus, busSync, busAsync))
	}
	if !regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`).MatchString(cfg.Environment) {
		errs = append(errs, fmt.Errorf("SWITCHYARD_ENVIRONMENT %q is invalid: use 1-63 lowercase letters, digits or '-'", cfg.Environment))
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(raw.logLevel)); err != nil {
		errs = append(errs, fmt.Errorf("SWITCHYARD_LOG_LEVEL %q is invalid: use debug, info, warn or error", raw.logLevel))
	}
	d, err := time.ParseDuration(raw.shutdown)
	if err != nil || d <= 0 {
		errs = append(errs, fmt.Errorf("SWITCHYARD_SHUTDOWN_TIMEOUT %q is invalid: use a positive duration like 20s", raw.shutdown))
	}
	cfg.ShutdownTimeout = d
	if cfg.SeedFile != "" {
		if _, err := os.Stat(cfg.SeedFile); err != nil {
			errs = append(errs, fmt.Errorf("SWITCHYARD_SEED_FILE: %w", err))
		}
	}
	cfg.DSNs = map[string]string{}
	for _, module := range []string{"flags", "evaluation", "audit"} {
		name := "SWITCHYARD_" + strings.ToUpper(module) + "_DSN"
		dsn := strings.TrimSpace(getenv(name))
		if dsn == "" {
			continue
		}
		if u, err := url.Parse(dsn); err != nil || !storage.IsPostgres(dsn) || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s must be a postgres:// URL with a host, e.g. postgres://user@db:5432/switchyard (unset keeps SQLite in the data directory)", name))
			continue
		}
		cfg.DSNs[module] = dsn
	}
	if nats := strings.TrimSpace(getenv("SWITCHYARD_NATS_URL")); nats != "" {
		u, err := url.Parse(nats)
		switch {
		case err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "":
			errs = append(errs, fmt.Errorf("SWITCHYARD_NATS_URL %q must be a nats:// (or tls://) URL with a host, e.g. nats://127.0.0.1:4222", nats))
		case cfg.Bus != busAsync:
			errs = append(errs, errors.New("SWITCHYARD_NATS_URL needs SWITCHYARD_BUS=async: events then travel through NATS JetStream; sync delivers in process"))
		default:
			cfg.NATSURL = nats
		}
	}
	if cmd == "serve" {
		tokens, err := parseTokens("SWITCHYARD_ADMIN_TOKENS", getenv("SWITCHYARD_ADMIN_TOKENS"))
		if err != nil {
			errs = append(errs, err)
		}
		cfg.AdminTokens = tokens
		push, err := loadPushConfig(getenv, cfg.Bus)
		errs = append(errs, err)
		cfg.Push = push
		sdkTokens, err := parseTokens("SWITCHYARD_SDK_TOKENS", getenv("SWITCHYARD_SDK_TOKENS"))
		errs = append(errs, err)
		cfg.SDKTokens = sdkTokens
		metricsTokens, err := parseTokens("SWITCHYARD_METRICS_TOKENS", getenv("SWITCHYARD_METRICS_TOKENS"))
		errs = append(errs, err, distinctSecrets("SWITCHYARD_METRICS_TOKENS", metricsTokens, "SWITCHYARD_ADMIN_TOKENS", tokens))
		cfg.MetricsTokens = metricsTokens
		cfg.OutboxRetention = outbox.DefaultRetention
		if raw := strings.TrimSpace(getenv("SWITCHYARD_OUTBOX_RETENTION")); raw != "" {
			d, err := time.ParseDuration(raw)
			if err != nil || d < time.Minute {
				errs = append(errs, fmt.Errorf("SWITCHYARD_OUTBOX_RETENTION %q is invalid: use a duration of at least 1m, like 168h (delivered events are kept that long; undelivered ones always)", raw))
			} else {
				cfg.OutboxRetention = d
			}
		}
		cfg.MaxEventStreams = 1000
		if raw := strings.TrimSpace(getenv("SWITCHYARD_MAX_EVENT_STREAMS")); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > 1_000_000 {
				errs = append(errs, fmt.Errorf("SWITCHYARD_MAX_EVENT_STREAMS %q is invalid: use a whole number from 1 to 1000000 (each open stream holds a connection and a goroutine)", raw))
			} else {
				cfg.MaxEventStreams = n
			}
		}
	}
	return cfg, errors.Join(errs...)
}

var tokenNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

// MinTokenLength keeps guessable admin tokens out of production.
const MinTokenLength = 16

// parseTokens reads a token list (variable env): comma-separated name:token pairs.
func parseTokens(env, raw string) ([]httpx.Token, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var tokens []httpx.Token
	names, secrets := map[string]bool{}, map[string]bool{}
	for i, pair := range strings.Split(raw, ",") {
		name, secret, ok := strings.Cut(strings.TrimSpace(pair), ":")
		switch {
		case !ok:
			return nil, fmt.Errorf("%s entry %d is not name:token", env, i+1)
		case !tokenNamePattern.MatchString(name):
			return nil, fmt.Errorf("%s entry %d: name %q must be 1-64 letters, digits, '_', '.', '@' or '-'", env, i+1, name)
		case len(secret) < MinTokenLength:
			return nil, fmt.Errorf("%s entry %d (%s): token must be at least %d characters", env, i+1, name, MinTokenLength)
		case names[name]:
			return nil, fmt.Errorf("%s: name %q appears twice", env, name)
		case secrets[secret]:
			return nil, fmt.Errorf("%s: entry %d (%s) reuses another entry's token", env, i+1, name)
		}
		names[name], secrets[secret] = true, true
		tokens = append(tokens, httpx.Token{Name: name, Secret: secret})
	}
	return tokens, nil
}

// distinctSecrets refuses a token of list (variable env) whose secret is also one of
// other's (variable otherEnv): a scraper's credential must not open the admin API.
func distinctSecrets(env string, list []httpx.Token, otherEnv string, other []httpx.Token) error {
	for i, t := range list {
		for _, o := range other {
			if t.Secret == o.Secret {
				return fmt.Errorf("%s entry %d (%s) reuses the secret of %s's %q: give it a token of its own", env, i+1, t.Name, otherEnv, o.Name)
			}
		}
	}
	return nil
}

// ensureAdminTokens generates (once, kept in the data directory) a development token when
// none is configured and the server listens on loopback only; elsewhere tokens are required.
func ensureAdminTokens(cfg *config) error {
	if len(cfg.AdminTokens) > 0 {
		return nil
	}
	host, _, _ := net.SplitHostPort(cfg.Addr)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("SWITCHYARD_ADMIN_TOKENS is required when listening on %s (not loopback); set it to name:token pairs, e.g. ci:$(openssl rand -hex 24)", cfg.Addr)
	}
	path := filepath.Join(cfg.DataDir, devTokenFile)
	secret, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read development admin token: %w", err)
	}
	if len(strings.TrimSpace(string(secret))) < MinTokenLength {
		buf := make([]byte, 24)
		if _, err := rand.Read(buf); err != nil {
			return fmt.Errorf("generate development admin token: %w", err)
		}
		secret = []byte(hex.EncodeToString(buf))
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		if err := os.WriteFile(path, append(secret, '\n'), 0o600); err != nil {
			return fmt.Errorf("store development admin token: %w", err)
		}
	}
	cfg.DevToken = strings.TrimSpace(string(secret))
	cfg.AdminTokens = []httpx.Token{{Name: "dev", Secret: cfg.DevToken}}
	return nil
}
