// Command switchyard-bench measures Switchyard's read path under load, as ratios against
// a bare echo handler measured in the same run, and against flagd (-flagd) serving the
// same seed: it starts bin/switchyard, a bare echo server and flagd as child processes on
// loopback, drives each with the same keep-alive load generator in interleaved rounds,
// and prints req/s, p50, p99 and errors per scenario, with PASS/MISS against the read
// path's targets. When flagd cannot be built or started, the run goes on without it and
// says why. The targets are benchmarks, not tests: a missed target does
// not fail the run; only a broken run does (a server that does not start, sanity checks
// that fail, more than 1% errors). `make bench` runs it; see docs/benchmarks.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "switchyard-bench:", err)
		os.Exit(1)
	}
}
