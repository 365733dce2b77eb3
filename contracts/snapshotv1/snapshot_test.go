package snapshotv1_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"full", `{"$schema":"https://flagd.dev/schema/v0/flags.json","environment":"development","revision":3,
			"flags":{"f":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"$ref":"r"}}},
			"$evaluators":{"r":{"in":["a",{"var":"x"}]}},"metadata":{"team":"a"},"futureField":1}`, ""},
		{"empty environment", `{"environment":"staging","revision":0,"flags":{}}`, ""},
		{"no environment", `{"revision":1,"flags":{}}`, "environment is missing"},
		{"negative revision", `{"environment":"e","revision":-1,"flags":{}}`, "negative"},
		{"no flags", `{"environment":"e","revision":1}`, "flags is missing"},
		{"flag without state", `{"environment":"e","revision":1,"flags":{"f":{"variants":{}}}}`, `flag "f" has no state`},
		{"not JSON", `<html>`, "decode definitions snapshot"},
		{"flags of the wrong type", `{"environment":"e","revision":1,"flags":[]}`, "decode definitions snapshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := snapshotv1.Decode([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode = %+v, %v; want an error containing %q", s, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
		})
	}

	s, err := snapshotv1.Decode([]byte(tests[0].in))
	if err != nil {
		t.Fatal(err)
	}
	f := s.Flags["f"]
	if s.Environment != "development" || s.Revision != 3 || f.State != "ENABLED" || string(f.Targeting) != `{"$ref":"r"}` ||
		string(s.Evaluators["r"]) != `{"in":["a",{"var":"x"}]}` || s.Metadata["team"] != "a" {
		t.Fatalf("decoded %+v", s)
	}
}

func TestMergedMetadata(t *testing.T) {
	s := snapshotv1.Snapshot{Metadata: map[string]any{"team": "set", "tier": 1.0}}
	s.Flags = map[string]flagDef{
		"own":  {State: "ENABLED", Metadata: map[string]any{"team": "flag", "x": true}},
		"bare": {State: "ENABLED"},
	}
	if got, want := s.MergedMetadata("own"), map[string]any{"team": "flag", "tier": 1.0, "x": true}; !reflect.DeepEqual(got, want) {
		t.Errorf("MergedMetadata(own) = %v, want %v", got, want)
	}
	if got, want := s.MergedMetadata("bare"), map[string]any{"team": "set", "tier": 1.0}; !reflect.DeepEqual(got, want) {
		t.Errorf("MergedMetadata(bare) = %v, want %v", got, want)
	}
	if s.Metadata["team"] != "set" || len(s.Metadata) != 2 {
		t.Errorf("MergedMetadata modified the set's metadata: %v", s.Metadata)
	}
	none := snapshotv1.Snapshot{Flags: map[string]flagDef{"f": {State: "ENABLED"}}}
	if got := none.MergedMetadata("f"); got != nil {
		t.Errorf("MergedMetadata without any = %v, want nil", got)
	}
}

type flagDef = flagsv1.Definition
