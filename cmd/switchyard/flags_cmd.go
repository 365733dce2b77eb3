package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
)

const flagsUsage = `usage: switchyard flags <command> [flags] [FILE]

commands (against a running server, as an admin):
  import FILE    load a flagd flag file into an environment, all or nothing
                 (--dry-run prints what would change; --prune archives flags absent from FILE)
  diff FILE      what importing FILE would change (an import --dry-run)
  export [FILE]  the environment's live flags as a flagd flag file (stdout without FILE)

flags: --server (SWITCHYARD_URL), --token (SWITCHYARD_TOKEN, else <data-dir>/dev-admin-token),
       --data-dir (SWITCHYARD_DATA_DIR), --env (SWITCHYARD_ENVIRONMENT), --reason (import).`

// flagsCmdTimeout bounds one request of the flags command.
const flagsCmdTimeout = 60 * time.Second

// flagsOptions are the flags command's settings, from flags over environment over defaults.
type flagsOptions struct {
	server, token, dataDir, env, reason string
	dryRun, prune                       bool
	file                                string
}

// runFlags is `switchyard flags import|export|diff`: flags as code, through the admin API.
func runFlags(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, flagsUsage)
		return errors.New("flags: no command given")
	}
	sub := args[0]
	switch sub {
	case "import", "diff", "export":
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, flagsUsage)
		return nil
	default:
		fmt.Fprintln(stderr, flagsUsage)
		return fmt.Errorf("flags: unknown command %q", sub)
	}
	opts, err := parseFlagsOptions(sub, args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	c := &adminClient{base: opts.server, token: opts.token, http: &http.Client{Timeout: flagsCmdTimeout}}
	if sub == "export" {
		return exportFlags(ctx, c, opts, stdout, stderr)
	}
	return importFlags(ctx, c, opts, sub == "diff" || opts.dryRun, stdout, stderr)
}

func parseFlagsOptions(sub string, args []string, getenv func(string) string, stderr io.Writer) (flagsOptions, error) {
	var o flagsOptions
	fs := flag.NewFlagSet("flags "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", envOr(getenv, "SWITCHYARD_URL", "http://127.0.0.1:8080"), "base URL of the server (env SWITCHYARD_URL)")
	fs.StringVar(&o.token, "token", getenv("SWITCHYARD_TOKEN"), "admin bearer token (env SWITCHYARD_TOKEN; default: <data-dir>/"+devTokenFile+")")
	fs.StringVar(&o.dataDir, "data-dir", envOr(getenv, "SWITCHYARD_DATA_DIR", "./data"), "where a local server keeps its development token (env SWITCHYARD_DATA_DIR)")
	fs.StringVar(&o.env, "env", envOr(getenv, "SWITCHYARD_ENVIRONMENT", "development"), "environment (env SWITCHYARD_ENVIRONMENT)")
	if sub != "export" {
		fs.StringVar(&o.reason, "reason", "", `change reason recorded with every change (default "import <file name>")`)
		fs.BoolVar(&o.prune, "prune", false, "archive live flags absent from the file, remove evaluators absent from it")
	}
	if sub == "import" {
		fs.BoolVar(&o.dryRun, "dry-run", false, "print what would change and change nothing")
	}
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return o, err
	}
	switch {
	case len(positional) > 1:
		return o, fmt.Errorf("flags %s: unexpected arguments %q", sub, positional[1:])
	case len(positional) == 1:
		o.file = positional[0]
	case sub != "export":
		return o, fmt.Errorf("flags %s: the flag file to %s is required", sub, sub)
	}
	u, err := url.Parse(o.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, fmt.Errorf("flags: --server %q is not an http(s) URL", o.server)
	}
	o.server = strings.TrimSuffix(o.server, "/")
	if o.token == "" {
		secret, err := os.ReadFile(filepath.Join(o.dataDir, devTokenFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return o, fmt.Errorf("flags: read development token: %w", err)
		}
		o.token = strings.TrimSpace(string(secret))
	}
	if o.token == "" {
		return o, fmt.Errorf("flags: no admin token: set --token or SWITCHYARD_TOKEN (or --data-dir to a local server's data directory)")
	}
	if o.reason == "" && o.file != "" {
		o.reason = "import " + filepath.Base(o.file)
	}
	return o, nil
}

// parseInterspersed parses flags before and after positional arguments
// (`diff flags.json --env prod` as well as `diff --env prod flags.json`).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func importFlags(ctx context.Context, c *adminClient, o flagsOptions, dryRun bool, stdout, stderr io.Writer) error {
	body, err := os.ReadFile(o.file)
	if err != nil {
		return fmt.Errorf("flags: %w", err)
	}
	q := url.Values{}
	if dryRun {
		q.Set("dryRun", "true")
	}
	if o.prune {
		q.Set("prune", "true")
	}
	path := "/api/v1/environments/" + url.PathEscape(o.env) + "/import"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.do(ctx, http.MethodPost, path, body, map[string]string{"X-Change-Reason": o.reason})
	if err != nil {
		return err
	}
	if resp.status != http.StatusOK {
		var p problem
		_ = json.Unmarshal(resp.body, &p)
		if p.Plan != nil {
			printPlan(stdout, o.env, *p.Plan)
		}
		return p.report(stderr, "import "+o.file+" into "+o.env, resp)
	}
	var plan flagsv1.ImportPlan
	if err := json.Unmarshal(resp.body, &plan); err != nil {
		return fmt.Errorf("flags: the server's answer is not an import plan: %w", err)
	}
	printPlan(stdout, o.env, plan)
	return nil
}

// printPlan writes a plan for people: one line per change, then a summary.
func printPlan(w io.Writer, env string, p flagsv1.ImportPlan) {
	counts := map[string]int{}
	for _, ch := range p.Changes {
		counts[ch.Action]++
		switch ch.Action {
		case flagsv1.ActionCreate:
			if ch.FromVersion > 0 {
				fmt.Fprintf(w, "+ create %s (restore v%d -> v%d)\n", ch.Flag, ch.FromVersion, ch.ToVersion)
			} else {
				fmt.Fprintf(w, "+ create %s\n", ch.Flag)
			}
		case flagsv1.ActionUpdate:
			fmt.Fprintf(w, "~ update %s (v%d -> v%d)\n", ch.Flag, ch.FromVersion, ch.ToVersion)
		case flagsv1.ActionArchive:
			fmt.Fprintf(w, "- archive %s\n", ch.Flag)
		}
	}
	for _, n := range p.Evaluators.Added {
		fmt.Fprintf(w, "+ evaluator %s\n", n)
	}
	for _, n := range p.Evaluators.Changed {
		fmt.Fprintf(w, "~ evaluator %s\n", n)
	}
	for _, n := range p.Evaluators.Removed {
		fmt.Fprintf(w, "- evaluator %s\n", n)
	}
	if p.MetadataChanged {
		fmt.Fprintln(w, "~ flag-set metadata")
	}
	summary := fmt.Sprintf("%d to create, %d to update, %d to archive, %d unchanged",
		counts[flagsv1.ActionCreate], counts[flagsv1.ActionUpdate], counts[flagsv1.ActionArchive], counts[flagsv1.ActionUnchanged])
	if p.DryRun {
		fmt.Fprintf(w, "dry run against %s: %s; nothing was changed\n", env, summary)
		return
	}
	fmt.Fprintf(w, "imported into %s: %s\n", env, strings.NewReplacer(" to create", " created", " to update", " updated", " to archive", " archived").Replace(summary))
}

func exportFlags(ctx context.Context, c *adminClient, o flagsOptions, stdout, stderr io.Writer) error {
	resp, err := c.do(ctx, http.MethodGet, "/api/v1/environments/"+url.PathEscape(o.env)+"/flags.json", nil, nil)
	if err != nil {
		return err
	}
	if resp.status != http.StatusOK {
		var p problem
		_ = json.Unmarshal(resp.body, &p)
		return p.report(stderr, "export "+o.env, resp)
	}
	pretty, flags, err := prettyJSON(resp.body)
	if err != nil {
		return fmt.Errorf("flags: the server's export is not JSON: %w", err)
	}
	if o.file == "" {
		_, err := stdout.Write(pretty)
		return err
	}
	if err := os.WriteFile(o.file, pretty, 0o644); err != nil {
		return fmt.Errorf("flags: write %s: %w", o.file, err)
	}
	fmt.Fprintf(stdout, "exported %d flags of %s to %s\n", flags, o.env, o.file)
	return nil
}

// prettyJSON re-encodes a flag file indented with sorted keys (numbers kept as written)
// and counts its flags.
func prettyJSON(raw []byte) ([]byte, int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, 0, err
	}
	flags, _ := v["flags"].(map[string]any)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), len(flags), nil
}
