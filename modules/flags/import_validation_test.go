package flags_test

import (
	"net/http"
	"strings"
	"testing"
)

type problemBody struct {
	Status int    `json:"status"`
	Type   string `json:"type"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
	Errors []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// fileWith is a flag file whose one flag x has the given definition, plus extra top-level
// members (`"$evaluators": {...}`).
func fileWith(def string, extra ...string) string {
	members := append([]string{`"flags":{"x":` + def + `}`}, extra...)
	return "{" + strings.Join(members, ",") + "}"
}

const okDef = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off"}`

func targeted(rule string) string {
	return `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":` + rule + `}`
}

// TestImportRefusesEveryKindOfInvalidFileWithItsPath: each case's first problem names
// the JSON path into the file and says what is wrong.
func TestImportRefusesEveryKindOfInvalidFileWithItsPath(t *testing.T) {
	tests := []struct {
		name, file string
		field      string // the first problem's field; "" when the problem is about the whole body
		detail     string // substring of its detail
	}{
		{"not JSON", `{"flags":`, "", "malformed JSON"},
		{"not an object", `[1]`, "", "must be an object"},
		{"unknown top-level member", `{"flags":{},"flagz":{}}`, "flagz", `unknown field "flagz"`},
		{"no flags member", `{"metadata":{}}`, "flags", "flags is required"},
		{"unknown field in a flag", fileWith(`{"state":"ENABLED","variants":{"a":1},"colour":"red"}`), "flags.x.colour", `unknown field "colour"`},
		{"wrong type in a flag", fileWith(`{"state":true,"variants":{"a":1}}`), "flags.x.state", "must be a string"},
		{"bad state", fileWith(`{"state":"ON","variants":{"a":1}}`), "flags.x.state", `flag "x": state "ON" is invalid`},
		{"no variants", fileWith(`{"state":"ENABLED","variants":{}}`), "flags.x.variants", "variants is required"},
		{"mixed variant types", fileWith(`{"state":"ENABLED","variants":{"a":true,"b":"x"}}`), "flags.x.variants.b", "mixed types"},
		{"unknown default variant", fileWith(`{"state":"ENABLED","variants":{"a":1},"defaultVariant":"z"}`), "flags.x.defaultVariant", `defaultVariant "z" is not among the variants (a)`},
		{"targeting not an object", fileWith(targeted(`[1]`)), "flags.x.targeting", "must be a JSON object"},
		{"flag metadata not primitive", fileWith(`{"state":"ENABLED","variants":{"a":1},"metadata":{"o":{"x":1}}}`), "flags.x.metadata.o", "string, number or boolean"},
		{"bad flag key", `{"flags":{"bad key!":` + okDef + `}}`, "flags.bad key!", "flag key"},
		{"evaluator not an object", fileWith(okDef, `"$evaluators":{"e":[1]}`), "$evaluators.e", `evaluator "e" must be a JSON object`},
		{"bad evaluator name", fileWith(okDef, `"$evaluators":{"bad name":{"var":"x"}}`), "$evaluators.bad name", "evaluator name"},
		{"flag-set metadata not primitive", fileWith(okDef, `"metadata":{"o":[1]}`), "metadata.o", "flag-set metadata"},
		// Targeting, compiled by the engine: the path continues inside the rule.
		{"$ref to a missing evaluator", fileWith(targeted(`{"if":[{"$ref":"nope"},"on","off"]}`)), "flags.x.targeting.if[0].$ref", `$ref to missing evaluator "nope"`},
		{"unknown operator", fileWith(targeted(`{"if":[{"startswith":[{"var":"email"},"a"]},"on","off"]}`)), "flags.x.targeting.if[0].startswith", `unknown operator "startswith"`},
		{"fractional weight not an integer", fileWith(targeted(`{"fractional":[{"var":"k"},["on",50],["off","50"]]}`)), "flags.x.targeting.fractional[2][1]", `fractional weight must be an integer, got "50"`},
		{"nested fractional weight", fileWith(targeted(`{"if":[{"var":"beta"},{"fractional":[["on",50.5],["off",49.5]]},null]}`)), "flags.x.targeting.if[1].fractional[0][1]", "fractional weight must be an integer, got 50.5"},
		{"targeting returns an unknown variant", fileWith(targeted(`{"if":[{"var":"beta"},"on","beta"]}`)), "flags.x.targeting", `flag "x": targeting can return variant "beta", which is not among the variants (off, on)`},
		{"targeting returns true without a variant true", fileWith(targeted(`{"starts_with":[{"var":"email"},"a"]}`)), "flags.x.targeting", `can return variant "false"`},
		{"an evaluator returns an unknown variant", fileWith(targeted(`{"$ref":"pick"}`), `"$evaluators":{"pick":{"if":[{"var":"beta"},"on","preview"]}}`), "flags.x.targeting", `can return variant "preview"`},
		{"evaluator with a wrong argument count", fileWith(okDef, `"$evaluators":{"a":{"in":[{"var":"x"},["1"],3]}}`), "$evaluators.a.in", "in takes 2 arguments, got 3"},
		{"evaluator referencing a missing one", fileWith(okDef, `"$evaluators":{"a":{"and":[{"$ref":"gone"},true]}}`), "$evaluators.a.and[0].$ref", `$ref to missing evaluator "gone"`},
		{"$ref cycle", fileWith(okDef, `"$evaluators":{"a":{"!":{"$ref":"b"}},"b":{"!":{"$ref":"a"}}}`), "$evaluators.b.!.$ref", "$ref cycle: a -> b -> a"},
	}
	// One store per dialect for every case: a refused import writes nothing, which each
	// case checks, so the cases cannot see each other.
	eachStore(t, func(t *testing.T, shared *harness) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				h := shared.on(t)
				rec := h.importFile("", tc.file)
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
					t.Fatalf("Content-Type %q", ct)
				}
				p := decode[problemBody](t, rec)
				if p.Field != tc.field || !strings.Contains(p.Detail, tc.detail) {
					t.Fatalf("problem field %q detail %q; want field %q, detail containing %q", p.Field, p.Detail, tc.field, tc.detail)
				}
				if h.state() != "" {
					t.Fatalf("a refused import wrote:\n%s", h.state())
				}
			})
		}
	})
}

func TestImportReportsEveryProblemOfTheFileAtOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		file := `{"flags":{
		"a":{"state":"ON","variants":{"on":true}},
		"b":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"off"},
		"c":{"state":"ENABLED","variants":{"on":true,"off":false},"targeting":{"if":[{"$ref":"missing"},"on","off"]}},
		"ok":{"state":"ENABLED","variants":{"on":true}}},
		"$evaluators":{"bad":"not a rule"},
		"metadata":{"nested":{"no":1}}}`
		rec := h.importFile("", file)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		p := decode[problemBody](t, rec)
		var fields []string
		for _, e := range p.Errors {
			fields = append(fields, e.Field)
		}
		got := strings.Join(fields, " ")
		for _, want := range []string{"flags.a.state", "flags.b.defaultVariant", "flags.c.targeting", "$evaluators.bad", "metadata.nested"} {
			if !strings.Contains(got, want) {
				t.Errorf("errors %v lack %s", fields, want)
			}
		}
		if len(p.Errors) != 5 || !strings.HasPrefix(p.Detail, "5 problems in the flag file") || p.Field != p.Errors[0].Field {
			t.Fatalf("problem %+v", p)
		}
	})
}

func TestImportQueryParametersAreChecked(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		for _, tc := range []struct{ query, field string }{
			{"?dryRun=maybe", "dryRun"},
			{"?prune=yes", "prune"},
			{"?dry_run=true", "dry_run"},
			{"?prune=true&prune=false", "prune"},
		} {
			rec := h.importFile(tc.query, flagdFile)
			if p := decode[problemBody](t, rec); rec.Code != http.StatusBadRequest || p.Field != tc.field {
				t.Errorf("%s: %d %+v", tc.query, rec.Code, p)
			}
		}
		if rec := h.do(http.MethodPost, importPath, flagdFile, "Authorization", "Bearer wrong"); rec.Code != http.StatusUnauthorized {
			t.Errorf("import with a wrong token: %d", rec.Code)
		}
		if rec := h.do(http.MethodGet, exportPath, "", "Authorization", ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("export without a token: %d", rec.Code)
		}
		if h.state() != "" {
			t.Fatalf("refused imports wrote:\n%s", h.state())
		}
	})
}

func TestRemovingAnEvaluatorAFlagStillUsesIsRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.mustImport("", flagdFile)
		before := h.state()
		// prune: the file keeps new-checkout but no longer defines staffEmail, which it uses.
		file := `{"flags":{"new-checkout":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off",
		"targeting":{"if":[{"$ref":"staffEmail"},"on","off"]}}}}`
		rec := h.importFile("?prune=true", file)
		p := decode[problemBody](t, rec)
		if rec.Code != http.StatusBadRequest || p.Field != "flags.new-checkout.targeting.if[0].$ref" || !strings.Contains(p.Detail, `missing evaluator "staffEmail"`) {
			t.Fatalf("%d %+v", rec.Code, p)
		}
		if h.state() != before {
			t.Fatal("a refused import changed something")
		}
	})
}

func TestPutFlagCompilesItsTargetingAgainstTheEnvironmentsEvaluators(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.mustImport("", flagdFile)
		const flag = "/api/v1/environments/prod/flags/"

		rec := h.do(http.MethodPut, flag+"beta", targeted(`{"if":[{"$ref":"nope"},"on","off"]}`))
		p := decode[problemBody](t, rec)
		if rec.Code != http.StatusBadRequest || p.Field != "targeting.if[0].$ref" || p.Detail != `$ref to missing evaluator "nope"` {
			t.Fatalf("PUT with a $ref to a missing evaluator: %d %+v", rec.Code, p)
		}
		for _, tc := range []struct{ rule, field, detail string }{
			{`{"if":[{"startswith":[{"var":"email"},"a"]},"on","off"]}`, "targeting.if[0].startswith", `unknown operator "startswith"`},
			{`{"fractional":[["on",50],["off","50"]]}`, "targeting.fractional[1][1]", `fractional weight must be an integer, got "50"`},
			{`{"if":[{"$ref":"staffEmail"},"on","beta"]}`, "targeting", `targeting can return variant "beta", which is not among the variants (off, on)`},
			{`{"if":[{"$ref":"inEurope"},"on",{"sem_ver":[{"var":"v"},"=>","1.0.0"]}]}`, "targeting.if[2].sem_ver[1]", `sem_ver operator must be one of = != < <= > >= ~ ^, got "=>"`},
		} {
			rec := h.do(http.MethodPut, flag+"beta", targeted(tc.rule))
			if p := decode[problemBody](t, rec); rec.Code != http.StatusBadRequest || p.Field != tc.field || !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("PUT %s: %d field %q detail %q; want field %q, detail containing %q", tc.rule, rec.Code, p.Field, p.Detail, tc.field, tc.detail)
			}
		}
		// The same $ref is fine in an environment that has the evaluator, and the event
		// carries it.
		if rec := h.do(http.MethodPut, flag+"beta", targeted(`{"if":[{"$ref":"inEurope"},"on","off"]}`)); rec.Code != http.StatusCreated {
			t.Fatalf("PUT with a known $ref: %d %s", rec.Code, rec.Body)
		}
		events := h.outboxEvents()
		e := events[len(events)-1]
		if names(e.Evaluators) != "inEurope" || e.FlagSetMetadata["team"] != "web" {
			t.Fatalf("PUT event evaluators %v, flag-set metadata %v", names(e.Evaluators), e.FlagSetMetadata)
		}
		// State changes and archiving carry the flag set too.
		h.do(http.MethodPut, flag+"beta/state", `{"state":"DISABLED"}`)
		h.do(http.MethodDelete, flag+"beta", "")
		events = h.outboxEvents()
		if st := events[len(events)-2]; names(st.Evaluators) != "inEurope" || st.FlagSetMetadata["team"] != "web" {
			t.Fatalf("state event %+v", st)
		}
		if ar := events[len(events)-1]; ar.Evaluators != nil || ar.FlagSetMetadata["team"] != "web" {
			t.Fatalf("archive event evaluators %v metadata %v", ar.Evaluators, ar.FlagSetMetadata)
		}
		// An environment without evaluators refuses the $ref.
		rec = h.do(http.MethodPut, "/api/v1/environments/other/flags/beta", targeted(`{"if":[{"$ref":"inEurope"},"on","off"]}`))
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("PUT in another environment: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestChangingAnEvaluatorSoThatAFlagBreaksIsRefusedNamingTheFlag(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.mustImport("", `{"flags":{
		"picker":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"$ref":"chooser"}},
		"other":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"$ref":"chooser"},"on","off"]}}},
		"$evaluators":{"chooser":{"if":[{"var":"beta"},"on","off"]}}}`)
		before := h.state()
		// The file leaves the flags alone (no prune) but makes chooser return "preview",
		// which picker returns as its variant and does not have.
		rec := h.importFile("", `{"flags":{}, "$evaluators":{"chooser":{"if":[{"var":"beta"},"on","preview"]}}}`)
		p := decode[problemBody](t, rec)
		if rec.Code != http.StatusBadRequest || len(p.Errors) != 1 || p.Field != "$evaluators.chooser" ||
			!strings.Contains(p.Detail, `live flag "picker"`) || !strings.Contains(p.Detail, `variant "preview"`) {
			t.Fatalf("%d %+v", rec.Code, p)
		}
		if h.state() != before {
			t.Fatal("a refused import changed something")
		}
		// A change that keeps every flag valid goes through, and re-versions both.
		plan := h.mustImport("", `{"flags":{}, "$evaluators":{"chooser":{"if":[{"var":"gamma"},"on","off"]}}}`)
		if got := actions(plan); got != "other:update:1->2 picker:update:1->2" {
			t.Fatalf("plan %s", got)
		}
	})
}
