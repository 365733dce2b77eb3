// Command flagloop is an example application of the Switchyard Go SDK: it evaluates
// flags for a set of users in a loop, as a service handling requests would, and reports
// every few seconds which layer answered (memory, redis, primary, secondary, snapshot,
// local, default), how many evaluations failed (it should be none), the latency
// percentiles and the breakers' states. Stop the server, Redis or PostgreSQL while it
// runs and watch the answers move down the layers and back.
//
//	go run ./examples/flagloop -url http://127.0.0.1:8080 -flags new-banner:bool \
//	    -redis redis://127.0.0.1:6379 -snapshot-file /tmp/flags.json
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchyardhq/switchyard/sdk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "flagloop:", err)
		os.Exit(1)
	}
}

// run parses args, evaluates until ctx ends (or -duration passes), and prints reports
// to stdout. It returns an error for bad arguments, or when an evaluation failed.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flagloop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		url      = fs.String("url", "http://127.0.0.1:8080", "Switchyard's base URL")
		flagList = fs.String("flags", "new-banner:bool", "flags to evaluate, key:kind (bool, string, int, float, object), comma-separated")
		users    = fs.Int("users", 20, "distinct users (evaluation contexts)")
		interval = fs.Duration("interval", 100*time.Millisecond, "time between two rounds")
		duration = fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
		every    = fs.Duration("report", 5*time.Second, "time between two reports")
		timeout  = fs.Duration("timeout", time.Second, "each evaluation's deadline")
		redisURL = fs.String("redis", "", "Redis URL for the shared cache (optional)")
		pgDSN    = fs.String("pg", "", "read-only PostgreSQL DSN of the evaluation tables (optional secondary)")
		local    = fs.Bool("local", false, "evaluate in-process from the synced snapshot")
		syncOn   = fs.Bool("sync", true, "keep a snapshot current (change stream + polling)")
		snapFile = fs.String("snapshot-file", "", "persist the last good snapshot here, and start from it")
		verbose  = fs.Bool("v", false, "log the SDK's breaker and sync messages")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	flags, err := parseFlags(*flagList)
	if err != nil {
		return err
	}
	level := slog.LevelError
	if *verbose {
		level = slog.LevelInfo
	}
	c, err := sdk.New(sdk.Options{
		BaseURL:         *url,
		Logger:          slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		Redis:           sdk.RedisOptions{URL: *redisURL},
		Secondary:       sdk.SecondaryOptions{PostgresDSN: *pgDSN},
		LocalEvaluation: *local,
		Sync:            sdk.SyncOptions{Enabled: *syncOn, SnapshotFile: *snapFile},
	})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	startCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := c.WaitReady(startCtx); err != nil {
		fmt.Fprintln(stdout, "not ready, evaluating anyway (defaults until a layer answers):", err)
	}
	cancel()

	a := newApp(c, flags, *users, *timeout)
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	report := time.NewTicker(*every)
	defer report.Stop()
	failed := 0
	rows := [][]string{{"time", "evaluations", "failed", "answered by", "p50", "p99", "state", "breakers (redis/primary/secondary)"}}
	flush := func() {
		t := a.report()
		failed += t.failed
		rows = append(rows, []string{time.Now().Format("15:04:05"), fmt.Sprint(t.total), fmt.Sprint(t.failed), t.sources(),
			t.percentile(50).String(), t.percentile(99).String(), string(c.State()),
			fmt.Sprintf("%s/%s/%s", c.BreakerState(sdk.SourceRedis), c.BreakerState(sdk.SourcePrimary), c.BreakerState(sdk.SourceSecondary))})
		printTable(stdout, rows)
		rows = rows[:1]
	}
	for {
		select {
		case <-ctx.Done():
			flush()
			if failed > 0 {
				return fmt.Errorf("%d evaluations failed", failed)
			}
			return nil
		case <-tick.C:
			a.tick(ctx)
		case <-report.C:
			flush()
		}
	}
}
