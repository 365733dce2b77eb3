package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	exe := os.Args[0] // the test binary: an executable that exists
	notExec := filepath.Join(t.TempDir(), "switchyard")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		want  string // part of the error; "" for a valid config
		check func(t *testing.T, c config)
	}{
		{name: "defaults", args: []string{"-server", exe}, check: func(t *testing.T, c config) {
			if c.Duration != 10*time.Second || c.Conns != 64 || c.Flags != 100 || c.Rounds != 5 || c.Targeted != defaultTargeted {
				t.Errorf("defaults = %+v", c)
			}
			if c.window() != 2*time.Second {
				t.Errorf("window = %v, want 10s over 5 rounds", c.window())
			}
		}},
		{name: "everything set", args: []string{"-server", exe, "-duration", "30s", "-warmup", "0s", "-rounds", "1", "-conns", "8",
			"-flags", "20", "-targeted", "5", "-server-procs", "1", "-load-procs", "1", "-timeout", "1s"},
			check: func(t *testing.T, c config) {
				if c.window() != 30*time.Second || c.Warmup != 0 || c.Conns != 8 || c.Flags != 20 || c.Targeted != 5 || c.ServerProcs != 1 || c.LoadProcs != 1 {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "zero duration", args: []string{"-server", exe, "-duration", "0s"}, want: "-duration 0s"},
		{name: "endless duration", args: []string{"-server", exe, "-duration", "1h"}, want: "-duration 1h0m0s"},
		{name: "rounds too short", args: []string{"-server", exe, "-duration", "1s", "-rounds", "3"}, want: "333ms per round"},
		{name: "window truncated to the millisecond", args: []string{"-server", exe, "-duration", "10s", "-rounds", "3"}, check: func(t *testing.T, c config) {
			if c.window() != 3333*time.Millisecond {
				t.Errorf("window = %v, want 3.333s", c.window())
			}
		}},
		{name: "no rounds", args: []string{"-server", exe, "-rounds", "0"}, want: "-rounds 0"},
		{name: "negative warm-up", args: []string{"-server", exe, "-warmup", "-1s"}, want: "-warmup -1s"},
		{name: "no connections", args: []string{"-server", exe, "-conns", "0"}, want: "-conns 0"},
		{name: "too many connections", args: []string{"-server", exe, "-conns", "5000"}, want: "-conns 5000"},
		{name: "no flags", args: []string{"-server", exe, "-flags", "0"}, want: "-flags 0"},
		{name: "every flag targeted", args: []string{"-server", exe, "-flags", "10", "-targeted", "10"}, want: "-targeted 10: use 0 to 9"},
		{name: "negative procs", args: []string{"-server", exe, "-server-procs", "-1", "-load-procs", "-2"}, want: "-load-procs -2"},
		{name: "zero timeout", args: []string{"-server", exe, "-timeout", "0s"}, want: "-timeout 0s"},
		{name: "missing server", args: []string{"-server", "/nonexistent/switchyard"}, want: "run make build first"},
		{name: "server is a directory", args: []string{"-server", t.TempDir()}, want: "is not an executable file"},
		{name: "server not executable", args: []string{"-server", notExec}, want: "is not an executable file"},
		{name: "empty server", args: []string{"-server", " "}, want: "-server is empty"},
		{name: "stray argument", args: []string{"-server", exe, "now"}, want: `unexpected arguments ["now"]`},
		{name: "unknown flag", args: []string{"-server", exe, "-connections", "3"}, want: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, io.Discard)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("parseConfig(%q) = %v", tt.args, err)
				}
				tt.check(t, c)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseConfig(%q) = %v, want an error mentioning %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := parseConfig([]string{"-server", os.Args[0], "-conns", "0", "-flags", "0", "-timeout", "0s"}, io.Discard)
	for _, want := range []string{"-conns 0", "-flags 0", "-timeout 0s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig([]string{"-h"}, &out)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "usage: switchyard-bench") || !strings.Contains(out.String(), "-server-procs") {
		t.Fatalf("parseConfig(-h) = %v, output %q", err, out.String())
	}
	if err := run(t.Context(), []string{"switchyard-bench", "-h"}, io.Discard, io.Discard); err != nil {
		t.Errorf("run -h = %v, want nil", err)
	}
}
