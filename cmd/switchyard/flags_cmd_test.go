//go:build !command && !read

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// cliFlagFile is a flagd flag file with targeting, $ref, fractional and metadata.
const cliFlagFile = `{
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "flags": {
    "new-checkout": {
      "state": "ENABLED",
      "variants": {"on": true, "off": false},
      "defaultVariant": "off",
      "targeting": {"if": [{"$ref": "staff"}, "on", {"fractional": [["on", 25], ["off", 75]]}]},
      "metadata": {"owner": "payments"}
    },
    "banner-text": {
      "state": "ENABLED",
      "variants": {"welcome": "Welcome <b>back</b>", "sale": "Sale & more"},
      "defaultVariant": "welcome"
    },
    "dark-mode": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}
  },
  "$evaluators": {"staff": {"ends_with": [{"var": "email"}, "@example.com"]}},
  "metadata": {"team": "web"}
}`

// cli runs `switchyard flags ...` against s with its admin token.
func cli(t *testing.T, s *server, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	vars := map[string]string{"SWITCHYARD_URL": s.base, "SWITCHYARD_TOKEN": s.token}
	for k, v := range env {
		vars[k] = v
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"switchyard", "flags"}, args...), func(k string) string { return vars[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

func TestFlagsCommandImportsDiffsAndExports(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	dir := t.TempDir()
	file := writeFile(t, dir, "flags.json", cliFlagFile)

	out, _, err := cli(t, s, nil, "diff", file)
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	for _, want := range []string{"+ create banner-text\n", "+ create dark-mode\n", "+ create new-checkout\n", "+ evaluator staff\n", "~ flag-set metadata\n",
		"dry run against development: 3 to create, 0 to update, 0 to archive, 0 unchanged; nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	if resp := s.do(http.MethodGet, "/api/v1/environments/development/flags/dark-mode", "", nil); resp.status != http.StatusNotFound {
		t.Fatalf("diff changed something: %d %s", resp.status, resp.body)
	}

	out, _, err = cli(t, s, nil, "import", file)
	if err != nil || !strings.Contains(out, "imported into development: 3 created, 0 updated, 0 archived, 0 unchanged") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	// Sync bus: visible on the next request, recorded with the token's name and the file's name.
	if got := s.evaluate("banner-text").json(t); got["value"] != "Welcome <b>back</b>" {
		t.Fatalf("evaluation after import: %v", got)
	}
	// The imported rule evaluates as flagd would: staff (the shared $ref) get "on"; the
	// flag's metadata is merged over the flag set's.
	staff := s.do(http.MethodPost, "/ofrep/v1/evaluate/flags/new-checkout", `{"context":{"email":"jo@example.com"}}`, nil).json(t)
	if staff["reason"] != "TARGETING_MATCH" || staff["value"] != true ||
		!reflect.DeepEqual(staff["metadata"], map[string]any{"owner": "payments", "team": "web"}) {
		t.Fatalf("staff evaluation of the imported rule: %v", staff)
	}
	entries := s.auditEntries("flag=dark-mode")
	if len(entries) != 1 || entries[0]["actor"] != "alice" || entries[0]["reason"] != "import flags.json" {
		t.Fatalf("audit after import: %v", entries)
	}

	// Export to a file: pretty-printed, keys sorted, semantically the imported file.
	exported := filepath.Join(dir, "exported.json")
	if out, _, err := cli(t, s, nil, "export", "--env", "development", exported); err != nil || !strings.Contains(out, "exported 3 flags of development to "+exported) {
		t.Fatalf("export: %v %s", err, out)
	}
	raw, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, raw, []byte(cliFlagFile)) {
		t.Fatalf("export differs from the imported file:\n%s", raw)
	}
	text := string(raw)
	if !strings.HasPrefix(text, "{\n  \"$evaluators\": {\n") || !strings.Contains(text, `"Sale & more"`) ||
		strings.Index(text, `"banner-text"`) > strings.Index(text, `"dark-mode"`) {
		t.Fatalf("export is not pretty-printed with sorted keys:\n%s", text)
	}
	// To stdout without a file, the same document.
	if out, _, err := cli(t, s, nil, "export"); err != nil || out != text {
		t.Fatalf("export to stdout: %v\n%s", err, out)
	}
	// Re-importing the export changes nothing.
	if out, _, err := cli(t, s, nil, "import", exported); err != nil || !strings.Contains(out, "0 created, 0 updated, 0 archived, 3 unchanged") {
		t.Fatalf("re-import: %v %s", err, out)
	}

	// Change one flag and the shared rule, drop another: --dry-run shows it, --prune does it.
	changed := strings.Replace(cliFlagFile, `"defaultVariant": "welcome"`, `"defaultVariant": "sale"`, 1)
	changed = strings.Replace(changed, `"@example.com"`, `"@example.org"`, 1)
	changed = strings.Replace(changed, `"dark-mode": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}`, `"light": {"state": "ENABLED", "variants": {"a": 1}}`, 1)
	next := writeFile(t, dir, "next.json", changed)
	out, _, err = cli(t, s, nil, "import", "--dry-run", "--prune", next)
	wantLines := "~ update banner-text (v1 -> v2)\n- archive dark-mode\n+ create light\n~ update new-checkout (v1 -> v2)\n~ evaluator staff\n" +
		"dry run against development: 1 to create, 2 to update, 1 to archive, 0 unchanged; nothing was changed\n"
	if err != nil || out != wantLines {
		t.Fatalf("import --dry-run --prune: %v\n%s\nwant\n%s", err, out, wantLines)
	}
	if out, _, err := cli(t, s, nil, "import", next, "--prune", "--reason", "sprint 12"); err != nil || !strings.Contains(out, "1 created, 2 updated, 1 archived") {
		t.Fatalf("import --prune: %v %s", err, out)
	}
	if got := s.auditEntries("flag=new-checkout")[0]; got["reason"] != "sprint 12: evaluator staff changed" || got["version"] != 2.0 {
		t.Fatalf("re-versioned flag's audit entry: %v", got)
	}
	// The changed shared rule is in force: an @example.com address is no longer staff and,
	// without a targeting key, the fractional split defers to the default variant.
	after := s.do(http.MethodPost, "/ofrep/v1/evaluate/flags/new-checkout", `{"context":{"email":"jo@example.com"}}`, nil).json(t)
	if after["reason"] != "DEFAULT" || after["value"] != false {
		t.Fatalf("evaluation after the shared rule changed: %v", after)
	}
	if resp := s.evaluate("dark-mode"); resp.status != http.StatusNotFound {
		t.Fatalf("pruned flag still evaluates: %d %s", resp.status, resp.body)
	}
}

func TestFlagsCommandFindsTheDevelopmentToken(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	s := startServer(t, data, map[string]string{"SWITCHYARD_ADMIN_TOKENS": ""})
	file := writeFile(t, t.TempDir(), "flags.json", cliFlagFile)

	// No --token and no SWITCHYARD_TOKEN: the token the server generated in its data dir.
	out, stderr, err := cli(t, s, map[string]string{"SWITCHYARD_TOKEN": "", "SWITCHYARD_DATA_DIR": data, "SWITCHYARD_ENVIRONMENT": "staging"}, "import", file)
	if err != nil || !strings.Contains(out, "imported into staging: 3 created") {
		t.Fatalf("import with the development token: %v\n%s%s", err, out, stderr)
	}
	token, err := os.ReadFile(filepath.Join(data, devTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	s.token = strings.TrimSpace(string(token))
	if entries := s.auditEntries("environment=staging&flag=dark-mode"); len(entries) != 1 || entries[0]["actor"] != "dev" {
		t.Fatalf("audit: %v", entries)
	}
	// --data-dir without a token file and no token: a clear error before any request.
	_, _, err = cli(t, s, map[string]string{"SWITCHYARD_TOKEN": ""}, "export", "--data-dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no admin token") {
		t.Fatalf("export without a token: %v", err)
	}
}

func TestFlagsCommandReportsServerErrorsWithTheirField(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.json", `{"flags":{
		"x":{"state":"ON","variants":{"a":1}},
		"y":{"state":"ENABLED","variants":{"a":1},"targeting":{"if":[{"$ref":"nope"},"a",null]}}}}`)
	good := writeFile(t, dir, "good.json", cliFlagFile)

	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		err    string // substring of the returned error
		stderr string // substring of what is printed
	}{
		{"invalid file", nil, []string{"import", bad}, "the server answered 400", "error: flags.x.state: flag \"x\": state \"ON\" is invalid"},
		{"invalid file, every problem", nil, []string{"diff", bad}, "400", "error: flags.y.targeting"},
		{"wrong token", nil, []string{"import", "--token", "not-the-token-0000", good}, "401", "error: invalid bearer token"},
		{"bad environment", nil, []string{"export", "--env", "Prod_1"}, "400", "error: environment: environment name"},
		{"unknown environment", nil, []string{"export", "--env", "nowhere"}, "404", `environment "nowhere" has never had a flag`},
		{"missing file argument", nil, []string{"import"}, "the flag file to import is required", ""},
		{"two files", nil, []string{"diff", good, bad}, "unexpected arguments", ""},
		{"file does not exist", nil, []string{"import", filepath.Join(dir, "nope.json")}, "no such file", ""},
		{"bad server URL", map[string]string{"SWITCHYARD_URL": "localhost:8080"}, []string{"export"}, "not an http(s) URL", ""},
		{"unknown command", nil, []string{"sync", good}, `unknown command "sync"`, "usage: switchyard flags"},
		{"unknown flag", nil, []string{"export", "--dry-run"}, "flag provided but not defined", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := cli(t, s, tc.env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want it to contain %q", err, tc.err)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
		})
	}
	if resp := s.do(http.MethodGet, "/api/v1/environments/development/flags", "", nil); !strings.Contains(string(resp.body), `"flags":[]`) {
		t.Fatalf("failed commands changed flags: %s", resp.body)
	}
}
