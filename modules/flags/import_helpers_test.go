package flags_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
)

const (
	importPath = "/api/v1/environments/prod/import"
	exportPath = "/api/v1/environments/prod/flags.json"
)

// actions renders a plan as "flag:action:from->to" in flag order.
func actions(p flagsv1.ImportPlan) string {
	var parts []string
	for _, c := range p.Changes {
		parts = append(parts, c.Flag+":"+c.Action+":"+itoa(c.FromVersion)+"->"+itoa(c.ToVersion))
	}
	return strings.Join(parts, " ")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (h *harness) importFile(query, body string, headers ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(http.MethodPost, importPath+query, body, headers...)
}

func (h *harness) mustImport(query, body string, headers ...string) flagsv1.ImportPlan {
	h.t.Helper()
	rec := h.importFile(query, body, headers...)
	if rec.Code != http.StatusOK {
		h.t.Fatalf("import%s: %d %s", query, rec.Code, rec.Body)
	}
	return decode[flagsv1.ImportPlan](h.t, rec)
}

// state is what a test compares before and after a refused or dry-run import: every
// table the flags module writes.
func (h *harness) state() string {
	h.t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT environment || '/' || flag_key || ' v' || version || ' ' || archived || ' ' || definition FROM flag_definitions ORDER BY 1`,
		`SELECT environment || '/' || flag_key || ' v' || version FROM flag_versions ORDER BY 1`,
		`SELECT environment || '/' || name || ' ' || rule FROM flag_evaluators ORDER BY 1`,
		`SELECT name || ' ' || metadata FROM flag_environments ORDER BY 1`,
		`SELECT event_id FROM outbox ORDER BY id`,
	} {
		var rows []string
		if err := h.db.Select(&rows, q); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, rows...)
	}
	return strings.Join(out, "\n")
}

// semantic decodes JSON for a comparison that ignores formatting and key order.
func semantic(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

func names[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}
