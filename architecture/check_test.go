package architecture

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

const fixtureModule = "github.com/switchyardhq/switchyard"

// found is the part of a Violation a fixture pins down.
type found struct {
	Rule, File, Package, Import string
}

// fixtures lists, for each rule, the violations its fixture tree under testdata/<rule>/
// must produce: exactly these, nothing else. Each fixture also holds imports the rule
// allows (and the exceptions to it), which must stay silent.
var fixtures = []struct {
	rule string
	want []found
}{
	{RuleModuleIsolation, []found{
		{RuleModuleIsolation, "modules/flags/export_test.go", "modules/flags", fixtureModule + "/modules/evaluation"},
		{RuleModuleIsolation, "modules/flags/internal/store/store.go", "modules/flags/internal/store", fixtureModule + "/modules/audit/internal/timeline"},
		{RuleModuleIsolation, "modules/flags/schema.go", "modules/flags", fixtureModule + "/migrations"},
		{RuleModuleIsolation, "modules/flags/wire.go", "modules/flags", fixtureModule + "/cmd/switchyard/config"},
	}},
	{RulePlatformIsolation, []found{
		{RulePlatformIsolation, "platform/bus/bus.go", "platform/bus", fixtureModule + "/modules/flags"},
		{RulePlatformIsolation, "platform/httpx/server.go", "platform/httpx", fixtureModule + "/cmd/switchyard"},
		{RulePlatformIsolation, "platform/migrate/migrate_test.go", "platform/migrate", fixtureModule + "/migrations"},
	}},
	{RuleContractsIsolation, []found{
		{RuleContractsIsolation, "contracts/flagsv1/events.go", "contracts/flagsv1", fixtureModule + "/platform/apperr"},
		{RuleContractsIsolation, "contracts/flagsv1/flag_test.go", "contracts/flagsv1", fixtureModule + "/cmd/switchyard"},
		{RuleContractsIsolation, "contracts/ofrepv1/ofrep.go", "contracts/ofrepv1", fixtureModule + "/modules/evaluation"},
	}},
	{RuleMigrationsIsolation, []found{
		{RuleMigrationsIsolation, "migrations/migrations.go", "migrations", fixtureModule + "/platform/migrate"},
		{RuleMigrationsIsolation, "migrations/migrations_test.go", "migrations", fixtureModule + "/modules/flags"},
	}},
	{RuleModuleImporters, []found{
		{RuleModuleImporters, "architecture/arch_test.go", "architecture", fixtureModule + "/modules/flags/internal/domain"},
		{RuleModuleImporters, "tools/gen/main.go", "tools/gen", fixtureModule + "/modules/flags"},
	}},
	{RuleUnknownLayer, []found{
		{RuleUnknownLayer, "internal/clock/clock.go", "internal/clock", ""},
		{RuleUnknownLayer, "switchyard.go", ".", ""},
		{RuleUnknownLayer, "utils/strings.go", "utils", ""},
	}},
}

func TestEachRuleCatchesItsFixture(t *testing.T) {
	for _, tc := range fixtures {
		t.Run(tc.rule, func(t *testing.T) {
			violations, err := Check(filepath.Join("testdata", tc.rule), fixtureModule)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			got := make([]found, 0, len(violations))
			for _, v := range violations {
				got = append(got, found{v.Rule, v.File, v.Package, v.Import})
				if v.Message == "" {
					t.Errorf("%s: empty message", v)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("violations:\n%s\nwant:\n%s", list(got), list(tc.want))
			}
		})
	}
}

func TestCleanFixtureHasNoViolations(t *testing.T) {
	violations, err := Check(filepath.Join("testdata", "clean"), fixtureModule)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, v := range violations {
		t.Errorf("%s", v)
	}
}

// TestEveryRuleHasAFixture keeps rules, fixtures and testdata folders in step: a new rule
// without a violating fixture, or a stray fixture, fails here.
func TestEveryRuleHasAFixture(t *testing.T) {
	var tested []string
	for _, tc := range fixtures {
		tested = append(tested, tc.rule)
		if len(tc.want) == 0 {
			t.Errorf("fixture %s expects no violation", tc.rule)
		}
		for _, w := range tc.want {
			if w.Rule != tc.rule {
				t.Errorf("fixture %s expects a violation of another rule: %+v", tc.rule, w)
			}
		}
	}
	rules := ruleIDs()
	sort.Strings(tested)
	sort.Strings(rules)
	if !reflect.DeepEqual(tested, rules) {
		t.Errorf("fixtures cover %v, rules are %v", tested, rules)
	}

	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	dirs := []string{}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "clean" {
			dirs = append(dirs, e.Name())
		}
	}
	sort.Strings(dirs)
	if !reflect.DeepEqual(dirs, rules) {
		t.Errorf("testdata folders (besides clean) are %v, rules are %v", dirs, rules)
	}
}

func TestExceptionsNameARule(t *testing.T) {
	known := map[string]bool{}
	for _, r := range importRules {
		known[r.id] = true
	}
	for _, e := range exceptions {
		if !known[e.rule] {
			t.Errorf("exception %q names unknown import rule %q", e.why, e.rule)
		}
		if e.why == "" {
			t.Errorf("exception to %s gives no reason", e.rule)
		}
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		modulePath string
		wantErr    string
		want       []found
	}{
		{
			name:       "empty module path",
			files:      map[string]string{"platform/x/x.go": "package x\n"},
			modulePath: "",
			wantErr:    "empty module path",
		},
		{
			name:       "no Go files",
			files:      map[string]string{"README.md": "# nothing\n", "sdk/client.go": "package sdk\n"},
			modulePath: fixtureModule,
			wantErr:    "no Go files",
		},
		{
			name: "unparsable imports are reported, the rest is still checked",
			files: map[string]string{
				"platform/bad/bad.go": "package bad\n\nimport \"fmt\n",
				"platform/bus/bus.go": "package bus\n\nimport _ \"" + fixtureModule + "/modules/flags\"\n",
			},
			modulePath: fixtureModule,
			wantErr:    "bad.go",
			want:       []found{{RulePlatformIsolation, "platform/bus/bus.go", "platform/bus", fixtureModule + "/modules/flags"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range tc.files {
				p := filepath.Join(root, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			violations, err := Check(root, tc.modulePath)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Check error = %v, want one containing %q", err, tc.wantErr)
			}
			var got []found
			for _, v := range violations {
				got = append(got, found{v.Rule, v.File, v.Package, v.Import})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("violations:\n%s\nwant:\n%s", list(got), list(tc.want))
			}
		})
	}
}

func TestViolationString(t *testing.T) {
	tests := []struct {
		v    Violation
		want string
	}{
		{
			Violation{Rule: RulePlatformIsolation, File: "platform/bus/bus.go", Line: 7, Package: "platform/bus", Import: "m/modules/flags", Message: "no"},
			`platform/bus/bus.go:7: [platform-isolation] imports "m/modules/flags": no`,
		},
		{
			Violation{Rule: RuleUnknownLayer, File: "utils/u.go", Package: "utils", Message: "no"},
			`utils/u.go: [unknown-layer] package utils: no`,
		},
	}
	for _, tc := range tests {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
	}
}

func list(fs []found) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.Rule + " " + f.File + " (" + f.Package + ") -> " + f.Import + "\n")
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}
