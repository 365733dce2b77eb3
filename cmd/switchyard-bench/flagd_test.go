package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// fakeFlagdEnv makes the test binary play flagd (TestMain): "serve" answers like flagd
// once the seed is loaded, "never-loads" is ready but never serves a flag, "crash" exits
// at once. Only the command line, the ports and the readiness protocol are flagd's here;
// the real flagd is tested by TestRealFlagdServesTheSeed when SWITCHYARD_FLAGD names it.
const fakeFlagdEnv = "SWITCHYARD_BENCH_FAKE_FLAGD"

// fakeFlagd parses flagd's `start` command line as startFlagd writes it, answers
// /readyz on the management port (412 until ready, as flagd does) and OFREP on the OFREP
// port, loading the flag file 200 ms after start as flagd's file provider does
// asynchronously.
func fakeFlagd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "start" {
		return fmt.Errorf("want the start command, got %q", args)
	}
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	port, mgmt, ofrep, syncPort := fs.Int("port", 8013, ""), fs.Int("management-port", 8014, ""), fs.Int("ofrep-port", 8016, ""), fs.Int("sync-port", 8015, "")
	uri := fs.String("uri", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	mode := os.Getenv(fakeFlagdEnv)
	if mode == "crash" {
		return errors.New("cannot start: crash requested")
	}
	file, ok := strings.CutPrefix(*uri, "file:")
	if !ok || filepath.Ext(file) != ".json" {
		return fmt.Errorf("--uri %q: want file:<path>.json", *uri)
	}
	for _, p := range []int{*port, *syncPort} {
		if p == 8013 || p == 8015 {
			return fmt.Errorf("a default port was left: %d", p)
		}
	}
	fmt.Fprintln(os.Stderr, "flagd version: v0.0.0-fake (HEAD), built at: unknown")
	started := time.Now()
	type fakeFlag struct {
		Variants       map[string]json.RawMessage `json:"variants"`
		DefaultVariant string                     `json:"defaultVariant"`
	}
	type flagFile struct {
		Flags map[string]fakeFlag `json:"flags"`
	}
	var loaded atomic.Pointer[flagFile] // nil until the file is loaded
	go func() {
		time.Sleep(200 * time.Millisecond)
		if mode == "never-loads" {
			return
		}
		var doc flagFile
		if b, err := os.ReadFile(file); err == nil && json.Unmarshal(b, &doc) == nil {
			loaded.Store(&doc)
		}
	}()
	flags := func() map[string]fakeFlag {
		if doc := loaded.Load(); doc != nil {
			return doc.Flags
		}
		return nil
	}
	eval := func(key string) (ofrepv1.Evaluation, bool) {
		f, ok := flags()[key]
		if !ok {
			return ofrepv1.Evaluation{}, false
		}
		return ofrepv1.Evaluation{Key: key, Reason: ofrepv1.ReasonStatic, Variant: f.DefaultVariant, Value: f.Variants[f.DefaultVariant]}, true
	}
	management := http.NewServeMux()
	management.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if time.Since(started) < 100*time.Millisecond {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ofrepMux := http.NewServeMux()
	ofrepMux.HandleFunc("POST /ofrep/v1/evaluate/flags/{key}", func(w http.ResponseWriter, r *http.Request) {
		ev, ok := eval(r.PathValue("key"))
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(ofrepv1.Evaluation{Key: r.PathValue("key"), ErrorCode: ofrepv1.ErrorFlagNotFound})
			return
		}
		_ = json.NewEncoder(w).Encode(ev)
	})
	ofrepMux.HandleFunc("POST /ofrep/v1/evaluate/flags", func(w http.ResponseWriter, r *http.Request) {
		bulk := ofrepv1.BulkEvaluation{Flags: []ofrepv1.Evaluation{}}
		keys := slices.Sorted(maps.Keys(flags())) // a stable body, so a stable ETag
		for _, key := range keys {
			if ev, ok := eval(key); ok {
				bulk.Flags = append(bulk.Flags, ev)
			}
		}
		body, _ := json.Marshal(bulk)
		sum := sha256.Sum256(body)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(body)
	})
	errs := make(chan error, 2)
	var servers []*http.Server
	for _, s := range []struct {
		port int
		h    http.Handler
	}{{*mgmt, management}, {*ofrep, ofrepMux}} {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.port))
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: time.Second}
		servers = append(servers, srv)
		go func() { errs <- srv.Serve(ln) }()
	}
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	for _, srv := range servers {
		_ = srv.Close()
	}
	return nil
}

func TestFlagdCommandLine(t *testing.T) {
	got := flagdPorts{eval: 1, management: 2, ofrep: 3, sync: 4}.args("/tmp/x/flags.json")
	want := []string{"start", "--port", "1", "--management-port", "2", "--ofrep-port", "3", "--sync-port", "4", "--uri", "file:/tmp/x/flags.json"}
	if !slices.Equal(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
}

func TestFreePortsAreDistinctAndFree(t *testing.T) {
	ports, err := freePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v: want 4 distinct ports", ports)
		}
		seen[p] = true
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Errorf("port %d was not released: %v", p, err)
			continue
		}
		_ = ln.Close()
	}
}

func TestFlagdUnavailableSaysWhy(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "flagd-noexec")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	failed := filepath.Join(dir, "failed", "flagd")
	if err := os.MkdirAll(filepath.Dir(failed), 0o755); err != nil {
		t.Fatal(err)
	}
	why := "github.com/open-feature/flagd/flagd@v0.16.1: go mod tidy failed: 403 Forbidden"
	if err := os.WriteFile(failed+flagdBuildErrorSuffix, []byte("\n"+why+"\nmore\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       []string // parts of the reason; nil: usable
	}{
		{"usable", os.Args[0], nil},
		{"not given", " ", []string{"no flagd binary given", "make flagd-tool"}},
		{"never built", filepath.Join(dir, "flagd"), []string{"no such file or directory", "make flagd-tool builds it"}},
		{"build failed", failed, []string{"no binary at " + failed + ": the last build failed: " + why}},
		{"a directory", dir, []string{"is not an executable file"}},
		{"not executable", notExec, []string{"is not an executable file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := flagdUnavailable(tt.path)
			if tt.want == nil {
				if got != "" {
					t.Fatalf("flagdUnavailable(%s) = %q, want usable", tt.path, got)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("flagdUnavailable(%s) = %q, lacks %q", tt.path, got, w)
				}
			}
			if strings.Contains(got, "more") {
				t.Errorf("reason %q quotes more than the build error's first line", got)
			}
		})
	}
}

// writeSeed writes the bench's seed file of n flags, as bench does, and returns its path.
func writeSeed(t *testing.T, n, targeted int) string {
	t.Helper()
	doc, err := seedDocument(n, targeted)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStartFlagdWaitsUntilTheSeedIsServed(t *testing.T) {
	seed := writeSeed(t, 10, 2)
	fl, err := startFlagd(t.Context(), os.Args[0], seed, 10, []string{fakeFlagdEnv + "=serve"}, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = fl.stop()
		}
	})
	// Served at once: startFlagd waited for the asynchronous load, not just for /readyz.
	n, err := bulkFlags(t.Context(), http.DefaultClient, fl.base)
	if err != nil || n != 10 {
		t.Fatalf("bulk evaluation right after start: %d flags, %v; want all 10", n, err)
	}
	if !strings.HasPrefix(fl.base, "http://127.0.0.1:") {
		t.Errorf("base %q, want flagd's OFREP port on loopback", fl.base)
	}
	if v := fl.flagdVersion(); v != "v0.0.0-fake" {
		t.Errorf("flagdVersion() = %q, want the version flagd logged", v)
	}
	got, notes, err := prepareFlagdScenarios(t.Context(), config{Flags: 10, Targeted: 2, Timeout: 5 * time.Second}, fl)
	if err != nil {
		t.Fatal(err)
	}
	if kinds := slices.Sorted(maps.Keys(got)); len(kinds) != 4 || len(notes) != 0 {
		t.Errorf("scenarios %v, notes %q: want all four, no notes", kinds, notes)
	}
	stopped = true
	if err := fl.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func TestStartFlagdFailuresSayWhy(t *testing.T) {
	seed := writeSeed(t, 10, 2)
	tests := []struct {
		mode    string
		timeout time.Duration
		want    []string
	}{
		{"crash", 20 * time.Second, []string{"exited before it was ready", "crash requested"}},
		{"never-loads", 1500 * time.Millisecond, []string{"did not serve the seed in time", "0 of the 10 seeded flags"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			fl, err := startFlagd(t.Context(), os.Args[0], seed, 10, []string{fakeFlagdEnv + "=" + tt.mode}, tt.timeout)
			if err == nil {
				_ = fl.stop()
				t.Fatal("startFlagd succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestRealFlagdServesTheSeed runs the real flagd when SWITCHYARD_FLAGD names its binary
// (make flagd-tool builds it into $HOME/.cache/switchyard-tools/flagd-<version>/flagd):
// it must start on the bench's seed and pass the bench's sanity checks. CI's make test
// does not set it.
func TestRealFlagdServesTheSeed(t *testing.T) {
	path := os.Getenv("SWITCHYARD_FLAGD")
	if path == "" {
		t.Skip("SWITCHYARD_FLAGD is not set: no flagd binary to run")
	}
	if why := flagdUnavailable(path); why != "" {
		t.Skip("flagd: " + why)
	}
	cfg := config{Flags: 100, Targeted: defaultTargeted, Timeout: 5 * time.Second}
	fl, err := startFlagd(t.Context(), path, writeSeed(t, cfg.Flags, cfg.Targeted), cfg.Flags, nil, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := fl.stop(); err != nil {
			t.Logf("stop: %v", err)
		}
	}()
	scenarios, notes, err := prepareFlagdScenarios(t.Context(), cfg, fl)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flagd %s: scenarios %d, notes %q", fl.flagdVersion(), len(scenarios), notes)
	ev, err := collectEvaluations(t.Context(), &http.Client{Timeout: cfg.Timeout}, "flagd", fl.base, []byte(evalContext), []string{staticKey()})
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.single[staticKey()]; got.Reason != ofrepv1.ReasonStatic || string(got.Value) != "true" {
		t.Errorf("flagd evaluated the static flag %s as %+v, want STATIC true", staticKey(), got)
	}
}
