package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/switchyardhq/switchyard/cmd/switchyard-bench/internal/load"
)

// Default GOMAXPROCS of the servers and of the load generator (see docs/benchmarks.md,
// "GOMAXPROCS"): 0 leaves Go's default, every CPU the process may use.
const (
	defaultServerProcs = 0
	defaultLoadProcs   = 0
)

// settle is the pause between scenarios, for the previous one's connections to close.
const settle = 200 * time.Millisecond

// run is the whole program; main supplies the process's context, arguments and streams.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == bareCommand {
		return serveBare(ctx, args[2:], stdout, stderr)
	}
	cfg, err := parseConfig(args[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	return bench(ctx, cfg, stdout, stderr)
}

// bench starts both servers, checks every scenario once, measures each in turn, prints
// the report and stops the servers. It fails only when the run itself broke.
func bench(ctx context.Context, cfg config, stdout, stderr io.Writer) (err error) {
	if cfg.LoadProcs > 0 {
		runtime.GOMAXPROCS(cfg.LoadProcs)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary for the bare server: %w", err)
	}
	dir, err := os.MkdirTemp("", "switchyard-bench-")
	if err != nil {
		return fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	seedFile := filepath.Join(dir, "flags.json")
	doc, err := seedDocument(cfg.Flags, cfg.Targeted)
	if err != nil {
		return err
	}
	if err := os.WriteFile(seedFile, doc, 0o600); err != nil {
		return fmt.Errorf("write seed: %w", err)
	}

	procsEnv := []string{}
	if cfg.ServerProcs > 0 {
		procsEnv = append(procsEnv, "GOMAXPROCS="+strconv.Itoa(cfg.ServerProcs))
	}
	fmt.Fprintf(stderr, "starting %s and the bare echo server...\n", cfg.Server)
	sy, err := startChild(ctx, "switchyard", cfg.Server, []string{"serve"}, append([]string{
		"SWITCHYARD_ADDR=127.0.0.1:0",
		"SWITCHYARD_DATA_DIR=" + filepath.Join(dir, "data"),
		"SWITCHYARD_SEED_FILE=" + seedFile,
		"SWITCHYARD_ENVIRONMENT=development",
		"SWITCHYARD_BUS=sync",
		"SWITCHYARD_LOG_LEVEL=warn",
		"SWITCHYARD_SHUTDOWN_TIMEOUT=10s",
		"SWITCHYARD_ADMIN_TOKENS=bench:" + randomToken(),
	}, procsEnv...), cfg.StartTimeout)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, sy.stop()) }()
	bare, err := startChild(ctx, "bare echo server", self, []string{bareCommand, "-addr", "127.0.0.1:0"}, procsEnv, cfg.StartTimeout)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, bare.stop()) }()

	scenarios, notes, err := prepareScenarios(ctx, cfg, sy, bare)
	if err != nil {
		return fmt.Errorf("sanity check before measuring: %w", err)
	}
	fl, flagdScenarios, flagdNotes := startAndCheckFlagd(ctx, cfg, seedFile, procsEnv, sy, stderr)
	if fl != nil {
		defer func() {
			// flagd is the comparison, not the subject: an unclean exit is reported, not fatal.
			if err := fl.stop(); err != nil {
				fmt.Fprintln(stderr, "note: flagd:", err)
			}
		}()
		scenarios = interleave(scenarios, flagdScenarios)
	}
	notes = append(notes, flagdNotes...)
	printSetup(stdout, cfg, flagdSetup(cfg, fl))
	rounds := make([][]measurement, len(scenarios))
	for r := range cfg.Rounds {
		for j := range scenarios {
			if (r > 0 || j > 0) && !sleep(ctx, settle) {
				return ctx.Err()
			}
			i := (j + r) % len(scenarios)
			s := scenarios[i]
			fmt.Fprintf(stderr, "round %d/%d: %s (%v warm-up + %v)\n", r+1, cfg.Rounds, s.name, cfg.Warmup, cfg.window())
			m, err := measure(ctx, cfg, s)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			rounds[i] = append(rounds[i], m)
		}
	}
	ms := make([]measurement, len(scenarios))
	for i := range scenarios {
		ms[i] = merge(rounds[i])
	}
	rep := buildReport(ms)
	rep.notes = append(notes, rep.notes...)
	fmt.Fprintln(stdout)
	rep.write(stdout)
	if len(rep.broken) > 0 {
		return fmt.Errorf("the run broke: %s", strings.Join(rep.broken, "; "))
	}
	return nil
}

// measure drives one scenario and samples both processes' CPU time as the window opens
// and closes.
func measure(ctx context.Context, cfg config, s scenario) (measurement, error) {
	var server, gen, busy [2]time.Duration
	self := os.Getpid()
	res, err := load.Run(ctx, s.target, load.Options{
		Conns: cfg.Conns, Warmup: cfg.Warmup, Duration: cfg.window(), Timeout: cfg.Timeout,
		OnWindow: func(start bool) {
			i := 1
			if start {
				i = 0
			}
			server[i], gen[i], busy[i] = s.server.cpu(), processCPU(self), machineBusy()
		},
	})
	if err != nil {
		return measurement{}, err
	}
	return measurement{
		Kind: s.kind, Peer: s.peer, Name: s.name, OK: res.OK, Errors: res.Errors, Samples: res.Samples,
		Window: res.Window, Latency: res.Latency, Closed: res.Closed,
		ServerCPU: cpuDelta(server), LoadCPU: cpuDelta(gen), Busy: cpuDelta(busy),
		Capacity: res.Window * time.Duration(runtime.NumCPU()),
	}, nil
}

// cpuDelta is the CPU used between two samples, or -1 when either is unknown.
func cpuDelta(s [2]time.Duration) time.Duration {
	if s[0] < 0 || s[1] < 0 {
		return -1
	}
	return s[1] - s[0]
}

func printSetup(w io.Writer, cfg config, flagd string) {
	procs := func(n int) string {
		if n == 0 {
			return "Go's default"
		}
		return strconv.Itoa(n)
	}
	fmt.Fprintf(w, "switchyard-bench: %s, %d CPUs, %d connections; per scenario %v measured in %d rounds of %v (each after %v warm-up)\n",
		runtime.Version(), runtime.NumCPU(), cfg.Conns, cfg.Duration, cfg.Rounds, cfg.window(), cfg.Warmup)
	fmt.Fprintf(w, "GOMAXPROCS: servers %s, load generator %d; %d flags seeded (%d with targeting rules)\n",
		procs(cfg.ServerProcs), runtime.GOMAXPROCS(0), cfg.Flags, cfg.Targeted)
	fmt.Fprintln(w, "flagd:", flagd)
}

// startAndCheckFlagd starts flagd on the seed file, checks its answers, and compares its
// semantics with Switchyard's. flagd is the comparison, not the subject: when it cannot
// be built, started or checked, it returns no child and notes saying why, and the run
// goes on without it.
func startAndCheckFlagd(ctx context.Context, cfg config, seedFile string, env []string, sy *child, stderr io.Writer) (*child, map[kind]scenario, []string) {
	skip := func(why string) (*child, map[kind]scenario, []string) {
		fmt.Fprintln(stderr, "flagd NOT MEASURED:", why)
		note := "flagd NOT MEASURED: " + firstLine([]byte(why))
		if strings.Contains(strings.TrimSpace(why), "\n") {
			note += " (flagd's output is on stderr)"
		}
		return nil, nil, []string{note}
	}
	if why := flagdUnavailable(cfg.Flagd); why != "" {
		return skip(why)
	}
	fmt.Fprintf(stderr, "starting %s on the same seed...\n", cfg.Flagd)
	fl, err := startFlagd(ctx, cfg.Flagd, seedFile, cfg.Flags, env, cfg.StartTimeout)
	if err != nil {
		return skip(err.Error())
	}
	scenarios, notes, err := prepareFlagdScenarios(ctx, cfg, fl)
	if err == nil {
		var diffs []difference
		if diffs, err = compareServers(ctx, cfg, sy, fl); err == nil {
			return fl, scenarios, append(notes, semanticsNotes(diffs, cfg, len(comparisonContexts()))...)
		}
	}
	if stopErr := fl.stop(); stopErr != nil {
		fmt.Fprintln(stderr, "note: flagd:", stopErr)
	}
	return skip("sanity check: " + err.Error())
}

// compareServers collects both servers' answers for the seed in every comparison context
// (bulk, and in the benchmark's context the single evaluations of the static and the
// targeted flag) and lists their differences.
func compareServers(ctx context.Context, cfg config, sy, fl *child) ([]difference, error) {
	client := &http.Client{Timeout: cfg.Timeout}
	keys := []string{staticKey()}
	if cfg.Targeted > 0 {
		keys = append(keys, targetedKey(cfg.Flags, cfg.Targeted))
	}
	var diffs []difference
	for i, c := range comparisonContexts() {
		if i > 0 {
			keys = nil // single evaluations in the benchmark's context only
		}
		a, err := collectEvaluations(ctx, client, "switchyard", sy.base, c.body, keys)
		if err != nil {
			return nil, err
		}
		b, err := collectEvaluations(ctx, client, "flagd", fl.base, c.body, keys)
		if err != nil {
			return nil, err
		}
		diffs = append(diffs, compareEvaluations(c.label, a, b)...)
	}
	return diffs, nil
}

// flagdSetup is the setup line's account of flagd: its binary and version, or why it
// was not measured.
func flagdSetup(cfg config, fl *child) string {
	if fl == nil {
		return "not measured (see the notes)"
	}
	version := fl.flagdVersion()
	if version == "" {
		version = "version not logged"
	}
	return fmt.Sprintf("%s (%s), OFREP at %s, same seed file, same GOMAXPROCS as the servers", cfg.Flagd, version, fl.base)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
