package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// config is one benchmark run, from the command line.
type config struct {
	Server       string        // the switchyard binary to start
	Flagd        string        // the flagd binary to compare with; "" or missing: not measured
	Duration     time.Duration // measured time per scenario, split evenly over the rounds
	Warmup       time.Duration // unmeasured load before each round's window
	Rounds       int           // every scenario runs once per round, in a rotated order
	Conns        int           // concurrent keep-alive connections
	Flags        int           // flags seeded (the bulk scenario evaluates all of them)
	Targeted     int           // of those, flags with targeting rules (the hook for the engine)
	ServerProcs  int           // GOMAXPROCS of each server process; 0 leaves Go's default
	LoadProcs    int           // GOMAXPROCS of the load generator; 0 leaves Go's default
	Timeout      time.Duration // per request
	StartTimeout time.Duration // for a server to listen and report ready
}

// Bounds that keep a run short, local and meaningful.
const (
	maxDuration = 10 * time.Minute
	maxWarmup   = time.Minute
	maxRounds   = 20
	minWindow   = 500 * time.Millisecond // per round
	maxConns    = 1024
	maxFlags    = 10000
	maxProcs    = 256
)

const usage = `usage: switchyard-bench [flags]

Starts the switchyard binary, a bare echo server and (with -flagd) flagd as child
processes on loopback, drives each with the same load, and prints req/s, p50, p99 and
errors per scenario as ratios against the bare handler, and Switchyard's against
flagd's. Exits 0 whatever the targets say; 1 when the run broke.

flags:`

func parseConfig(args []string, stderr io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet("switchyard-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Server, "server", "bin/switchyard", "the switchyard binary to benchmark (make build)")
	fs.StringVar(&cfg.Flagd, "flagd", "", "the flagd binary to compare with, on the same seed and load (make flagd-tool builds it); when empty or missing, flagd is not measured and the report says why")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time per scenario, split evenly over the rounds")
	fs.DurationVar(&cfg.Warmup, "warmup", 500*time.Millisecond, "load before each round's measured window, not measured")
	fs.IntVar(&cfg.Rounds, "rounds", 5, "rounds; each runs every scenario once, the order rotated, so drift in the machine's load spreads over all of them")
	fs.IntVar(&cfg.Conns, "conns", 64, "concurrent keep-alive connections")
	fs.IntVar(&cfg.Flags, "flags", 100, "flags seeded into the server; the bulk scenario evaluates all of them")
	fs.IntVar(&cfg.Targeted, "targeted", defaultTargeted, "how many of the seeded flags carry targeting rules (adds a scenario evaluating one)")
	fs.IntVar(&cfg.ServerProcs, "server-procs", defaultServerProcs, "GOMAXPROCS of each server process (0: Go's default, every CPU)")
	fs.IntVar(&cfg.LoadProcs, "load-procs", defaultLoadProcs, "GOMAXPROCS of the load generator (0: Go's default, every CPU)")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Second, "per-request timeout")
	fs.DurationVar(&cfg.StartTimeout, "start-timeout", 30*time.Second, "how long a server may take to become ready")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Duration > 0 && c.Duration <= maxDuration, "-duration %v: use a positive duration up to %v", c.Duration, maxDuration)
	check(c.Warmup >= 0 && c.Warmup <= maxWarmup, "-warmup %v: use 0 up to %v", c.Warmup, maxWarmup)
	check(c.Rounds >= 1 && c.Rounds <= maxRounds, "-rounds %d: use 1 to %d", c.Rounds, maxRounds)
	if c.Rounds >= 1 && c.Duration > 0 {
		check(c.window() >= minWindow, "-duration %v over %d rounds is %v per round: use at least %v per round", c.Duration, c.Rounds, c.window(), minWindow)
	}
	check(c.Conns >= 1 && c.Conns <= maxConns, "-conns %d: use 1 to %d", c.Conns, maxConns)
	check(c.Flags >= 1 && c.Flags <= maxFlags, "-flags %d: use 1 to %d", c.Flags, maxFlags)
	check(c.Targeted >= 0 && c.Targeted < c.Flags, "-targeted %d: use 0 to %d (fewer than -flags: the single-evaluation scenario needs a static flag)", c.Targeted, c.Flags-1)
	check(c.ServerProcs >= 0 && c.ServerProcs <= maxProcs, "-server-procs %d: use 0 (Go's default) to %d", c.ServerProcs, maxProcs)
	check(c.LoadProcs >= 0 && c.LoadProcs <= maxProcs, "-load-procs %d: use 0 (Go's default) to %d", c.LoadProcs, maxProcs)
	check(c.Timeout > 0, "-timeout %v: use a positive duration", c.Timeout)
	check(c.StartTimeout > 0, "-start-timeout %v: use a positive duration", c.StartTimeout)
	if strings.TrimSpace(c.Server) == "" {
		errs = append(errs, errors.New("-server is empty: give the switchyard binary (make build writes bin/switchyard)"))
	} else if fi, err := os.Stat(c.Server); err != nil {
		errs = append(errs, fmt.Errorf("-server %s: %w (run make build first)", c.Server, err))
	} else if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		errs = append(errs, fmt.Errorf("-server %s is not an executable file", c.Server))
	}
	return errors.Join(errs...)
}

// window is each round's measured time.
func (c config) window() time.Duration {
	return (c.Duration / time.Duration(c.Rounds)).Truncate(time.Millisecond)
}
