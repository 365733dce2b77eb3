package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

func TestCompareEvaluationsFindsEveryDifference(t *testing.T) {
	ev := func(key, reason, variant, value string, meta map[string]any) ofrepv1.Evaluation {
		e := ofrepv1.Evaluation{Key: key, Reason: reason, Variant: variant, Metadata: meta}
		if value != "" {
			e.Value = json.RawMessage(value)
		}
		return e
	}
	base := ev("bench-000", "STATIC", "on", "true", map[string]any{"owner": "bench-team"})
	tests := []struct {
		name  string
		sy    ofrepv1.Evaluation
		fl    ofrepv1.Evaluation
		where string // the part the pair goes in
		want  []string
	}{
		{"identical", base, base, "bulk", nil},
		{"the same number written differently", ev("k", "STATIC", "n", "1", nil), ev("k", "STATIC", "n", "1.0", nil), "bulk", nil},
		{"no metadata and empty metadata agree", ev("k", "STATIC", "on", "true", nil), ev("k", "STATIC", "on", "true", map[string]any{}), "bulk", nil},
		{"reason", ev("bench-099", "TARGETING_MATCH", "on", "true", nil), ev("bench-099", "SPLIT", "on", "true", nil), "bulk",
			[]string{"bulk bench-099 reason: TARGETING_MATCH | SPLIT"}},
		{"value and variant", ev("k", "TARGETING_MATCH", "on", "true", nil), ev("k", "TARGETING_MATCH", "off", "false", nil), "single",
			[]string{"single k value: true | false", "single k variant: on | off"}},
		{"no value on one side", ev("k", "DEFAULT", "", "", nil), ev("k", "DEFAULT", "", "null", nil), "bulk",
			[]string{"bulk k value: (none) | null"}},
		{"metadata", base, ev("bench-000", "STATIC", "on", "true", map[string]any{"owner": "bench-team", "flagSetId": "x"}), "bulk",
			[]string{`bulk bench-000 metadata: {"owner":"bench-team"} | {"flagSetId":"x","owner":"bench-team"}`}},
		{"error code", ev("k", "ERROR", "", "", nil), func() ofrepv1.Evaluation { e := ev("k", "ERROR", "", "", nil); e.ErrorCode = "GENERAL"; return e }(), "bulk",
			[]string{"bulk k errorCode:  | GENERAL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sy, fl := evaluations{bulk: map[string]ofrepv1.Evaluation{}, single: map[string]ofrepv1.Evaluation{}}, evaluations{bulk: map[string]ofrepv1.Evaluation{}, single: map[string]ofrepv1.Evaluation{}}
			if tt.where == "bulk" {
				sy.bulk[tt.sy.Key], fl.bulk[tt.fl.Key] = tt.sy, tt.fl
			} else {
				sy.single[tt.sy.Key], fl.single[tt.fl.Key] = tt.sy, tt.fl
			}
			var got []string
			for _, d := range compareEvaluations("ctx", sy, fl) {
				if d.Context != "ctx" {
					t.Errorf("difference %+v is not labelled with its context", d)
				}
				got = append(got, fmt.Sprintf("%s %s %s: %s | %s", d.Where, d.Key, d.Field, d.Switchyard, d.Flagd))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("differences\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCompareEvaluationsNamesFlagsOnlyOneServerAnswered(t *testing.T) {
	sy := evaluations{bulk: map[string]ofrepv1.Evaluation{"a": {Key: "a"}, "b": {Key: "b"}}}
	fl := evaluations{bulk: map[string]ofrepv1.Evaluation{"b": {Key: "b"}, "c": {Key: "c"}}}
	got := compareEvaluations("ctx", sy, fl)
	want := []difference{
		{Where: "bulk", Context: "ctx", Key: "a", Field: "missing", Switchyard: "answered", Flagd: "absent"},
		{Where: "bulk", Context: "ctx", Key: "c", Field: "missing", Switchyard: "absent", Flagd: "answered"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestSemanticsNotes(t *testing.T) {
	cfg := config{Flags: 100, Targeted: 20}
	reason := func(key string) difference {
		return difference{Where: "bulk", Context: "user-1/x@other.org/free/2.0.0", Key: key, Field: "reason", Switchyard: "TARGETING_MATCH", Flagd: "DEFAULT"}
	}
	tests := []struct {
		name  string
		diffs []difference
		want  []string
	}{
		{"agreement is a finding too", nil,
			[]string{"flagd semantics: flagd and Switchyard agree on value, variant, reason, error code and metadata for all 100 flags in 17 contexts (bulk)"}},
		{"one group, rules named, examples capped", []difference{reason("bench-080"), reason("bench-081"), reason("bench-082"), reason("bench-083"), reason("bench-087")},
			[]string{"flagd semantics: reason differs in 5 bulk evaluation(s) of the 17 contexts [by rule: ends_with 1, fractional 2, in 1, sem_ver 1]: " +
				"bench-080 (ends_with) in user-1/x@other.org/free/2.0.0: Switchyard TARGETING_MATCH, flagd DEFAULT; " +
				"bench-081 (in) in user-1/x@other.org/free/2.0.0: Switchyard TARGETING_MATCH, flagd DEFAULT; " +
				"bench-082 (sem_ver) in user-1/x@other.org/free/2.0.0: Switchyard TARGETING_MATCH, flagd DEFAULT; and 2 more"}},
		{"one line per field and part", []difference{
			{Where: "bulk", Context: "c1", Key: "bench-001", Field: "metadata", Switchyard: `{"owner":"bench-team"}`, Flagd: `{"flagSetId":"","owner":"bench-team"}`},
			{Where: "single", Context: "c0", Key: "bench-083", Field: "variant", Switchyard: "on", Flagd: "off"},
		}, []string{
			`flagd semantics: metadata differs in 1 bulk evaluation(s) of the 17 contexts [by rule: static 1]: bench-001 (static) in c1: Switchyard {"owner":"bench-team"}, flagd {"flagSetId":"","owner":"bench-team"}`,
			"flagd semantics: variant differs in 1 single evaluation(s) of the 17 contexts [by rule: fractional 1]: bench-083 (fractional) in c0: Switchyard on, flagd off",
		}},
		{"examples of different rules first", []difference{reason("bench-083"), reason("bench-087"), reason("bench-091"), reason("bench-080")},
			[]string{"flagd semantics: reason differs in 4 bulk evaluation(s) of the 17 contexts [by rule: ends_with 1, fractional 3]: " +
				"bench-083 (fractional) in user-1/x@other.org/free/2.0.0: Switchyard TARGETING_MATCH, flagd DEFAULT; " +
				"bench-080 (ends_with) in user-1/x@other.org/free/2.0.0: Switchyard TARGETING_MATCH, flagd DEFAULT; " +
				"bench-087 (fractional) in user-1/x@other.org/free/2.0.0: Switchyard TARGETING_MATCH, flagd DEFAULT; and 1 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := semanticsNotes(tt.diffs, cfg, 17)
			if len(got) != len(tt.want) {
				t.Fatalf("notes %q, want %d", got, len(tt.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("note %q\nwant %q", got[i], tt.want[i])
				}
			}
		})
	}
}

func TestCollectEvaluationsReadsBulkAndSingles(t *testing.T) {
	srv := httptest.NewServer(ofrepPeer{flags: 3, reason: ofrepv1.ReasonTargetingMatch})
	defer srv.Close()
	ev, err := collectEvaluations(t.Context(), &http.Client{Timeout: 5 * time.Second}, "peer", srv.URL, []byte(evalContext), []string{"bench-002"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.bulk) != 3 || ev.bulk["bench-001"].Reason != ofrepv1.ReasonStatic {
		t.Errorf("bulk %+v, want the 3 flags by key", ev.bulk)
	}
	if got := ev.single["bench-002"]; got.Key != "bench-002" || got.Reason != ofrepv1.ReasonTargetingMatch {
		t.Errorf("single %+v, want bench-002 as the peer answered it", got)
	}
	broken := httptest.NewServer(ofrepPeer{flags: 3, failStatus: http.StatusInternalServerError})
	defer broken.Close()
	if _, err := collectEvaluations(t.Context(), &http.Client{Timeout: 5 * time.Second}, "peer", broken.URL, []byte(evalContext), []string{"bench-000"}); err == nil || !strings.Contains(err.Error(), "answered 500") {
		t.Errorf("a failing single evaluation gave %v, want its status", err)
	}
}

func TestComparisonContextsCoverBothBranchesOfEveryRule(t *testing.T) {
	cs := comparisonContexts()
	if len(cs) != 17 || string(cs[0].body) != evalContext {
		t.Fatalf("%d contexts, the first %s: want the benchmark's context and 16 more", len(cs), cs[0].body)
	}
	seen := map[string]map[string]bool{}
	labels := map[string]bool{}
	noKey := 0
	for _, c := range cs {
		var req ofrepv1.EvaluationRequest
		if err := json.Unmarshal(c.body, &req); err != nil {
			t.Fatalf("%s: %v", c.label, err)
		}
		if labels[c.label] {
			t.Errorf("label %q twice", c.label)
		}
		labels[c.label] = true
		if _, ok := req.Context["targetingKey"]; !ok {
			noKey++
		}
		for _, attr := range []string{"email", "plan", "appVersion"} {
			if seen[attr] == nil {
				seen[attr] = map[string]bool{}
			}
			seen[attr][fmt.Sprint(req.Context[attr])] = true
		}
	}
	// ends_with @example.com, in [pro enterprise], sem_ver >= 2.0.0: each both ways.
	for attr, values := range map[string][]string{"email": {"x@example.com", "x@other.org"}, "plan": {"pro", "free"}, "appVersion": {"1.9.9", "2.10.1"}} {
		for _, v := range values {
			if !seen[attr][v] {
				t.Errorf("no context has %s %s: %v", attr, v, seen[attr])
			}
		}
	}
	if noKey != 1 {
		t.Errorf("%d contexts without a targetingKey, want 1 (fractional without a bucketing value)", noKey)
	}
}
