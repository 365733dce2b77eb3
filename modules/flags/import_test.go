package flags_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/bus"
)

// flagdFile uses every part of the flagd format: targeting with $ref (one evaluator
// referencing two others), fractional, flag and flag-set metadata, a disabled flag.
const flagdFile = `{
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "flags": {
    "new-checkout": {
      "state": "ENABLED",
      "variants": {"on": true, "off": false},
      "defaultVariant": "off",
      "targeting": {"if": [{"$ref": "staffEmail"}, "on", {"fractional": [{"var": "targetingKey"}, ["on", 10], ["off", 90]]}]},
      "metadata": {"owner": "payments", "ticket": 42}
    },
    "banner-text": {
      "state": "ENABLED",
      "variants": {"welcome": "Welcome!", "sale": "Autumn sale"},
      "defaultVariant": "welcome",
      "targeting": {"if": [{"$ref": "inEurope"}, "sale", "welcome"]}
    },
    "eu-beta": {
      "state": "ENABLED",
      "variants": {"on": true, "off": false},
      "defaultVariant": "off",
      "targeting": {"if": [{"$ref": "euStaff"}, "on", "off"]}
    },
    "dark-mode": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}
  },
  "$evaluators": {
    "staffEmail": {"ends_with": [{"var": "email"}, "@example.com"]},
    "inEurope": {"in": [{"var": "country"}, ["DE", "FR", "NL"]]},
    "euStaff": {"and": [{"$ref": "staffEmail"}, {"$ref": "inEurope"}]}
  },
  "metadata": {"team": "web", "release": 3}
}`

func TestImportThenExportRoundTripsAFlagdFile(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		plan := h.mustImport("", flagdFile, "X-Change-Reason", "import flags.json")
		if got, want := actions(plan), "banner-text:create:0->1 dark-mode:create:0->1 eu-beta:create:0->1 new-checkout:create:0->1"; got != want {
			t.Fatalf("plan %s, want %s", got, want)
		}
		if plan.DryRun || !plan.MetadataChanged || strings.Join(plan.Evaluators.Added, ",") != "euStaff,inEurope,staffEmail" {
			t.Fatalf("plan %+v", plan)
		}

		rec := h.do(http.MethodGet, exportPath, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("export: %d %s", rec.Code, rec.Body)
		}
		exported := rec.Body.Bytes()
		if got, want := semantic(t, exported), semantic(t, []byte(flagdFile)); !reflect.DeepEqual(got, want) {
			t.Fatalf("export(import(f)) differs from f:\n got %s\nwant %s", exported, flagdFile)
		}

		// Re-importing the export changes nothing: no version, no event.
		before := h.state()
		again := h.mustImport("", string(exported))
		for _, c := range again.Changes {
			if c.Action != "unchanged" || c.FromVersion != 1 || c.ToVersion != 1 {
				t.Fatalf("re-import of the export: %s", actions(again))
			}
		}
		if again.MetadataChanged || len(again.Evaluators.Added)+len(again.Evaluators.Changed)+len(again.Evaluators.Removed) > 0 {
			t.Fatalf("re-import changed the flag set: %+v", again)
		}
		if h.state() != before {
			t.Fatalf("re-import of the export wrote something:\n%s\n---\n%s", before, h.state())
		}
	})
}

func TestImportEventsCarryReferencedEvaluatorsAndFlagSetMetadata(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.mustImport("", flagdFile, "X-Change-Reason", "import flags.json")
		events := h.outboxEvents()
		if len(events) != 4 || len(h.dispatch.events) != 4 {
			t.Fatalf("%d events, %d dispatched; want one per flag (4)", len(events), len(h.dispatch.events))
		}
		byFlag := map[string]flagsv1.FlagChanged{}
		for _, e := range events {
			byFlag[e.FlagKey] = e
			if e.Type != flagsv1.TypeFlagCreated || e.Actor != "alice" || e.Reason != "import flags.json" || e.Version != 1 {
				t.Fatalf("event %+v", e)
			}
			if e.FlagSetMetadata["team"] != "web" || e.FlagSetMetadata["release"] != 3.0 {
				t.Fatalf("%s: flag-set metadata %v", e.FlagKey, e.FlagSetMetadata)
			}
		}
		wantRefs := map[string]string{
			"new-checkout": "staffEmail",
			"banner-text":  "inEurope",
			"eu-beta":      "euStaff,inEurope,staffEmail", // transitively
			"dark-mode":    "",
		}
		for key, want := range wantRefs {
			if got := names(byFlag[key].Evaluators); got != want {
				t.Errorf("%s carries evaluators %q, want %q", key, got, want)
			}
		}
		if got := string(byFlag["eu-beta"].Evaluators["staffEmail"]); got != `{"ends_with":[{"var":"email"},"@example.com"]}` {
			t.Errorf("evaluator rule in the event: %s", got)
		}
	})
}

func TestChangingAnEvaluatorReversionsEveryFlagThatReferencesIt(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.mustImport("", flagdFile)
		h.do(http.MethodPut, "/api/v1/environments/prod/flags/manual", `{"state":"ENABLED","variants":{"a":"x"},"defaultVariant":"a"}`)
		startEvents := len(h.outboxEvents())

		changed := strings.Replace(flagdFile, `"@example.com"`, `"@example.org"`, 1)
		plan := h.mustImport("", changed, "X-Change-Reason", "import flags.json")
		// staffEmail changed: new-checkout references it, eu-beta through euStaff; the others
		// (and the flag not in the file) keep their version.
		want := "banner-text:unchanged:1->1 dark-mode:unchanged:1->1 eu-beta:update:1->2 manual:unchanged:1->1 new-checkout:update:1->2"
		if got := actions(plan); got != want {
			t.Fatalf("plan %s, want %s", got, want)
		}
		if strings.Join(plan.Evaluators.Changed, ",") != "staffEmail" || plan.MetadataChanged {
			t.Fatalf("plan %+v", plan)
		}
		events := h.outboxEvents()[startEvents:]
		if len(events) != 2 {
			t.Fatalf("%d events, want 2", len(events))
		}
		for _, e := range events {
			if e.Type != flagsv1.TypeFlagUpdated || e.Reason != "import flags.json: evaluator staffEmail changed" {
				t.Fatalf("event %s: %s %q", e.FlagKey, e.Type, e.Reason)
			}
			if !bytes.Contains(e.Evaluators["staffEmail"], []byte("@example.org")) {
				t.Fatalf("event %s carries the old rule: %s", e.FlagKey, e.Evaluators["staffEmail"])
			}
			if !reflect.DeepEqual(e.Before, e.After) {
				t.Fatalf("the definition itself did not change: %+v -> %+v", e.Before, e.After)
			}
		}

		// Flag-set metadata is in every event: changing it re-versions every live flag.
		plan = h.mustImport("", strings.Replace(changed, `"release": 3`, `"release": 4`, 1))
		for _, c := range plan.Changes {
			if c.Action != "update" {
				t.Fatalf("a flag-set metadata change must re-version every live flag: %s", actions(plan))
			}
		}
		last := h.outboxEvents()
		if e := last[len(last)-1]; e.Reason != "import: flag-set metadata changed" || e.FlagSetMetadata["release"] != 4.0 {
			t.Fatalf("metadata event: %q %v", e.Reason, e.FlagSetMetadata)
		}
	})
}

func TestPruneArchivesAbsentFlagsAndRemovesAbsentEvaluators(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.mustImport("", flagdFile)
		small := `{"flags":{"dark-mode":{"state":"DISABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}},
		"metadata":{"team":"web","release":3}}`

		// Without prune, what the file does not mention stays.
		if plan := h.mustImport("", small); strings.Count(actions(plan), "unchanged") != 4 || len(plan.Evaluators.Removed) != 0 {
			t.Fatalf("import without prune: %s %+v", actions(plan), plan.Evaluators)
		}
		plan := h.mustImport("?prune=true", small)
		want := "banner-text:archive:1->2 dark-mode:unchanged:1->1 eu-beta:archive:1->2 new-checkout:archive:1->2"
		if got := actions(plan); got != want {
			t.Fatalf("prune plan %s, want %s", got, want)
		}
		if strings.Join(plan.Evaluators.Removed, ",") != "euStaff,inEurope,staffEmail" {
			t.Fatalf("prune evaluators %+v", plan.Evaluators)
		}
		exported := h.do(http.MethodGet, exportPath, "").Body.Bytes()
		if got, want := semantic(t, exported), semantic(t, []byte(small)); !reflect.DeepEqual(got["flags"], want["flags"]) || got["$evaluators"] != nil {
			t.Fatalf("after prune the export is %s", exported)
		}
		for _, e := range h.outboxEvents()[4:] {
			if e.Type != flagsv1.TypeFlagArchived || e.After != nil {
				t.Fatalf("prune event %+v", e)
			}
		}
		// A pruned flag comes back with the next import that has it.
		plan = h.mustImport("", flagdFile)
		if !strings.Contains(actions(plan), "new-checkout:create:2->3") {
			t.Fatalf("restore: %s", actions(plan))
		}
	})
}

func TestDryRunReturnsThePlanAndChangesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.mustImport("", flagdFile)
		before := h.state()
		changed := strings.Replace(flagdFile, `"defaultVariant": "welcome"`, `"defaultVariant": "sale"`, 1)
		changed = strings.Replace(changed, `"DE", "FR", "NL"`, `"DE"`, 1)

		dry := h.mustImport("?dryRun=true&prune=true", changed)
		if !dry.DryRun {
			t.Fatalf("dryRun = false in a dry run")
		}
		if h.state() != before || len(h.dispatch.events) != 4 {
			t.Fatalf("a dry run wrote or dispatched something")
		}
		real := h.mustImport("?prune=true", changed)
		if real.DryRun {
			t.Fatalf("dryRun = true in a real run")
		}
		real.DryRun = true
		if !reflect.DeepEqual(dry, real) {
			t.Fatalf("dry run planned %+v, the real run did %+v", dry, real)
		}
		if got := actions(real); got != "banner-text:update:1->2 dark-mode:unchanged:1->1 eu-beta:update:1->2 new-checkout:unchanged:1->1" {
			t.Fatalf("plan %s", got)
		}
	})
}

func TestAnImportWithOneBadFlagChangesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.mustImport("", flagdFile)
		before := h.state()
		bad := strings.Replace(flagdFile, `"state": "DISABLED"`, `"state": "OFF"`, 1)
		bad = strings.Replace(bad, `"release": 3`, `"release": 4`, 1)
		bad = strings.Replace(bad, `"@example.com"`, `"@example.org"`, 1)
		rec := h.importFile("", bad)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if p := decode[problemBody](t, rec); p.Field != "flags.dark-mode.state" {
			t.Fatalf("problem %+v", p)
		}
		if h.state() != before || len(h.dispatch.events) != 4 {
			t.Fatalf("a refused import changed something:\n%s\n---\n%s", before, h.state())
		}
	})
}

func TestAnImportThatCommitsButIsNotVisibleSaysSo(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		h.dispatch.fail = errors.Join(&bus.HandlerError{Handler: "audit.flag-timeline", Err: errors.New("disk full")})
		rec := h.importFile("", flagdFile)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var p struct {
			Committed        bool               `json:"committed"`
			PendingConsumers []string           `json:"pendingConsumers"`
			Plan             flagsv1.ImportPlan `json:"plan"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if !p.Committed || strings.Join(p.PendingConsumers, ",") != "audit.flag-timeline" || len(p.Plan.Changes) != 4 {
			t.Fatalf("problem %s", rec.Body)
		}
		// Every event was still handed over (each one that succeeds is visible), and all of
		// them wait in the outbox.
		if len(h.dispatch.events) != 4 || len(h.outboxEvents()) != 4 {
			t.Fatalf("%d dispatched, %d in the outbox; want 4 and 4", len(h.dispatch.events), len(h.outboxEvents()))
		}
	})
}

func TestExportOfAnUnknownEnvironmentIsNotFound(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		if rec := h.do(http.MethodGet, "/api/v1/environments/nowhere/flags.json", ""); rec.Code != http.StatusNotFound {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		// flags.json does not shadow a flag of that name, nor the other way round.
		h.do(http.MethodPut, "/api/v1/environments/prod/flags/flags.json", `{"state":"ENABLED","variants":{"a":1}}`)
		if rec := h.do(http.MethodGet, "/api/v1/environments/prod/flags/flags.json", ""); rec.Code != http.StatusOK {
			t.Fatalf("flag named flags.json: %d %s", rec.Code, rec.Body)
		}
		if rec := h.do(http.MethodGet, exportPath, ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"flags.json":{`) {
			t.Fatalf("export: %d %s", rec.Code, rec.Body)
		}
	})
}
