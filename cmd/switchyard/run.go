package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

const usage = `usage: switchyard <command> [flags]

commands:
  serve     run the service (flags, evaluation and audit modules)
  migrate   apply every module's database migrations and exit
  flags     flags as code against a running server: import, diff, export (flagd flag files)
  healthcheck  exit 0 when the server on SWITCHYARD_ADDR is ready (for container health checks)
  version   print the version

Run 'switchyard <command> -h' for the command's flags. Every flag has an environment
variable (SWITCHYARD_ADDR, SWITCHYARD_DATA_DIR, SWITCHYARD_BUS, SWITCHYARD_ENVIRONMENT, ...).`

// run is the whole program; main only supplies the process's context, arguments,
// environment and output streams, so tests can run it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		cfg, err := loadConfig("serve", rest, getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout, stderr)
	case "migrate":
		cfg, err := loadConfig("migrate", rest, getenv, stderr)
		if err != nil {
			return err
		}
		return migrateAll(ctx, cfg, stdout, stderr)
	case "flags":
		return runFlags(ctx, rest, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, rest, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "switchyard", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// version reports the module version and VCS revision stamped by the Go toolchain.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev
		if dirty {
			v += "-dirty"
		}
	}
	return v + " " + info.GoVersion
}
