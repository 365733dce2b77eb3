package main

import (
	"encoding/json"
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
