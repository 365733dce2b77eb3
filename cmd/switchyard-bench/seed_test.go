package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
)

func TestSeedDocumentIsAFlagdFileOfStaticAndTargetedFlags(t *testing.T) {
	tests := []struct {
		name        string
		n, targeted int
	}{
		{"default", 100, defaultTargeted},
		{"some targeted", 100, 20},
		{"one flag", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := seedDocument(tt.n, tt.targeted)
			if err != nil {
				t.Fatal(err)
			}
			var file struct {
				Flags map[string]flagsv1.Definition `json:"flags"`
			}
			dec := json.NewDecoder(strings.NewReader(string(doc)))
			if err := dec.Decode(&file); err != nil {
				t.Fatalf("not a flag file: %v\n%s", err, doc)
			}
			if len(file.Flags) != tt.n {
				t.Fatalf("%d flags, want %d", len(file.Flags), tt.n)
			}
			var targeted []string
			for key, d := range file.Flags {
				if d.State != flagsv1.StateEnabled || d.DefaultVariant == nil || d.Variants[*d.DefaultVariant] == nil {
					t.Errorf("%s: %+v is not an enabled flag whose default variant exists", key, d)
				}
				if len(d.Targeting) > 0 {
					targeted = append(targeted, key)
					if !json.Valid(d.Targeting) {
						t.Errorf("%s: targeting %s is not JSON", key, d.Targeting)
					}
				}
			}
			if len(targeted) != tt.targeted {
				t.Errorf("%d targeted flags, want %d", len(targeted), tt.targeted)
			}
			if _, ok := file.Flags[staticKey()]; !ok || slices.Contains(targeted, staticKey()) {
				t.Errorf("the single-evaluation flag %s is missing or targeted", staticKey())
			}
			if tt.targeted > 0 && !slices.Contains(targeted, targetedKey(tt.n, tt.targeted)) {
				t.Errorf("targetedKey %s has no rule; targeted: %v", targetedKey(tt.n, tt.targeted), targeted)
			}
		})
	}
}

func TestSeedDocumentRefusesImpossibleCounts(t *testing.T) {
	for _, c := range [][2]int{{0, 0}, {10, -1}, {10, 11}} {
		if _, err := seedDocument(c[0], c[1]); err == nil {
			t.Errorf("seedDocument(%d, %d) succeeded", c[0], c[1])
		}
	}
}

// TestSeedIsAFlagdFlagFileFlagdAccepts checks the seed (the one file both Switchyard and
// flagd load) against the rules of flagd's flag schema (flagd.dev/schema/v0/flags.json)
// that flagd enforces when it loads a file: known keys only, a state, variants of one
// type, a default variant among them, scalar metadata, and targeting that is a rule
// object. A file flagd rejects would leave flagd with no flags to measure.
func TestSeedIsAFlagdFlagFileFlagdAccepts(t *testing.T) {
	doc, err := seedDocument(100, defaultTargeted)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]json.RawMessage
	if err := json.Unmarshal(doc, &file); err != nil {
		t.Fatal(err)
	}
	for key := range file {
		if !slices.Contains([]string{"$schema", "flags", "$evaluators", "metadata"}, key) {
			t.Errorf("top-level key %q is not in flagd's schema", key)
		}
	}
	var schema string
	if err := json.Unmarshal(file["$schema"], &schema); err != nil || schema != "https://flagd.dev/schema/v0/flags.json" {
		t.Errorf("$schema %s, want flagd's flag schema", file["$schema"])
	}
	var flags map[string]map[string]json.RawMessage
	if err := json.Unmarshal(file["flags"], &flags); err != nil {
		t.Fatal(err)
	}
	for key, f := range flags {
		for field := range f {
			if !slices.Contains([]string{"state", "variants", "defaultVariant", "targeting", "metadata"}, field) {
				t.Errorf("%s: field %q is not in flagd's schema", key, field)
			}
		}
		var state, def string
		var variants map[string]any
		var meta map[string]any
		_ = json.Unmarshal(f["state"], &state)
		_ = json.Unmarshal(f["defaultVariant"], &def)
		if err := json.Unmarshal(f["variants"], &variants); err != nil || len(variants) == 0 {
			t.Errorf("%s: variants %s, want an object of variants", key, f["variants"])
		}
		if state != "ENABLED" && state != "DISABLED" {
			t.Errorf("%s: state %q", key, state)
		}
		if _, ok := variants[def]; !ok {
			t.Errorf("%s: defaultVariant %q is not a variant", key, def)
		}
		types := map[string]bool{}
		for _, v := range variants {
			types[fmt.Sprintf("%T", v)] = true
		}
		if len(types) != 1 {
			t.Errorf("%s: variants of types %v; flagd's schema wants one type per flag", key, types)
		}
		if raw, ok := f["metadata"]; ok {
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Errorf("%s: metadata %s is not an object", key, raw)
			}
			for mk, mv := range meta {
				switch mv.(type) {
				case string, float64, bool:
				default:
					t.Errorf("%s: metadata %s = %v is not a string, number or boolean", key, mk, mv)
				}
			}
		}
		if raw, ok := f["targeting"]; ok {
			var rule map[string]json.RawMessage
			if err := json.Unmarshal(raw, &rule); err != nil || len(rule) != 1 {
				t.Errorf("%s: targeting %s is not a rule object", key, raw)
			}
		}
	}
}

func TestSeedRuleNameNamesEachFlagsRule(t *testing.T) {
	const n, targeted = 12, 6
	doc, err := seedDocument(n, targeted)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Flags map[string]flagsv1.Definition `json:"flags"`
	}
	if err := json.Unmarshal(doc, &file); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := seedRuleName(i, n, targeted)
		rule := string(file.Flags[seedKey(i)].Targeting)
		if (name == "") != (rule == "") || (name != "" && !strings.Contains(rule, `{"`+name+`":`)) {
			t.Errorf("flag %d: seedRuleName %q, rule %s", i, name, rule)
		}
	}
	for _, i := range []int{-1, n} {
		if got := seedRuleName(i, n, targeted); got != "" {
			t.Errorf("seedRuleName(%d) = %q outside the seed", i, got)
		}
	}
}
