package audit_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/storage"
)

func event(id, typ, env, flag, actor string, at time.Time) flagsv1.FlagChanged {
	ev := flagsv1.FlagChanged{
		EventID: id, Type: typ, Environment: env, FlagKey: flag, Version: 1,
		Actor: actor, Reason: "because", OccurredAt: at,
		After: definition(flagsv1.StateEnabled, "on"),
	}
	return ev
}

func definition(state, defaultVariant string) *flagsv1.Definition {
	return &flagsv1.Definition{
		State:          state,
		Variants:       map[string]json.RawMessage{"on": json.RawMessage(`true`), "off": json.RawMessage(`false`)},
		DefaultVariant: &defaultVariant,
		Targeting:      json.RawMessage(`{"if":[{"ends_with":[{"var":"email"},"@example.com"]},"on","off"]}`),
		Metadata:       map[string]any{"team": "checkout"},
	}
}

func TestRecordsEntryFields(t *testing.T) { dialects(t, testRecordsEntryFields) }

func testRecordsEntryFields(t *testing.T, d storage.Dialect) {
	cet := time.FixedZone("CET", 3600)
	// 11:30:15.123456789 CET is 10:30:15.123Z: shown in UTC, to the millisecond.
	at := time.Date(2025, 3, 1, 11, 30, 15, 123456789, cet)
	const wantAt = "2025-03-01T10:30:15.123Z"
	v1, v2 := definition(flagsv1.StateEnabled, "off"), definition(flagsv1.StateEnabled, "on")
	disabled := definition(flagsv1.StateDisabled, "on")

	tests := []struct {
		name       string
		typ        string
		version    int64
		reason     string
		before     *flagsv1.Definition
		after      *flagsv1.Definition
		wantAction string
	}{
		{"created", flagsv1.TypeFlagCreated, 1, "launch", nil, v1, "flag.created"},
		{"updated", flagsv1.TypeFlagUpdated, 2, "flip default", v1, v2, "flag.updated"},
		{"state changed", flagsv1.TypeFlagStateChanged, 3, "", v2, disabled, "flag.state_changed"},
		{"archived", flagsv1.TypeFlagArchived, 4, "retired", disabled, nil, "flag.archived"},
		{"unknown type kept raw", "flags.v1.flag_renamed", 5, "future", v2, v2, "flags.v1.flag_renamed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureOn(t, d)
			f.deliver(t, flagsv1.FlagChanged{
				EventID: "evt-1", Type: tt.typ, Environment: "prod", FlagKey: "new-checkout",
				Version: tt.version, Actor: "bob", Reason: tt.reason, OccurredAt: at,
				Before: tt.before, After: tt.after,
			})
			got := f.list(t, "")
			if len(got.Entries) != 1 {
				t.Fatalf("entries = %d, want 1", len(got.Entries))
			}
			if got.NextCursor != nil && *got.NextCursor != "" {
				t.Errorf("nextCursor = %q on the only page, want none", *got.NextCursor)
			}
			want := jsonValue(t, map[string]any{
				"eventId": "evt-1", "occurredAt": wantAt, "actor": "bob", "action": tt.wantAction,
				"environment": "prod", "flag": "new-checkout", "version": tt.version, "reason": tt.reason,
				"before": tt.before, "after": tt.after,
			})
			if entry := jsonValue(t, got.Entries[0]); !reflect.DeepEqual(entry, want) {
				t.Errorf("entry =\n%v\nwant\n%v", entry, want)
			}
			var rec int64
			if err := f.db.GetContext(t.Context(), &rec, `SELECT recorded_at FROM audit_entries WHERE event_id = 'evt-1'`); err != nil {
				t.Fatalf("select recorded_at: %v", err)
			}
			if rec != recordedAt.UnixMilli() {
				t.Errorf("recorded_at = %d, want %d", rec, recordedAt.UnixMilli())
			}
		})
	}
}

func TestKeepsDefinitionFieldsItDoesNotKnow(t *testing.T) {
	dialects(t, testKeepsDefinitionFieldsItDoesNotKnow)
}

func testKeepsDefinitionFieldsItDoesNotKnow(t *testing.T, d storage.Dialect) {
	f := newFixtureOn(t, d)
	payload := []byte(`{"eventId":"evt-future","type":"flags.v1.flag_updated","environment":"prod",
		"flagKey":"f","version":2,"actor":"bob","occurredAt":"2025-03-01T10:00:00Z","schemaHint":"v1.1",
		"before":null,
		"after":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","rollout":{"stage":2}}}`)
	if err := f.deliverPayload(t, "evt-future", payload); err != nil {
		t.Fatalf("handle: %v", err)
	}
	got := f.list(t, "")
	if len(got.Entries) != 1 {
		t.Fatalf("entries = %d, want 1", len(got.Entries))
	}
	want := jsonValue(t, map[string]any{
		"state": "ENABLED", "variants": map[string]any{"on": true}, "defaultVariant": "on",
		"rollout": map[string]any{"stage": 2},
	})
	if after := got.Entries[0]["after"]; !reflect.DeepEqual(after, want) {
		t.Fatalf("after = %v, want %v (as the event carried it)", after, want)
	}
	if before := got.Entries[0]["before"]; before != nil {
		t.Fatalf("before = %v, want null", before)
	}
}

func TestDuplicateEventRecordedOnce(t *testing.T) { dialects(t, testDuplicateEventRecordedOnce) }

func testDuplicateEventRecordedOnce(t *testing.T, d storage.Dialect) {
	f := newFixtureOn(t, d)
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	first := event("evt-dup", flagsv1.TypeFlagCreated, "prod", "f", "alice", at)
	f.deliver(t, first)

	redelivery := first
	redelivery.Reason = "changed on the way"
	redelivery.Actor = "mallory"
	for range 2 {
		f.deliver(t, redelivery)
	}

	got := f.list(t, "")
	if ids := eventIDs(got.Entries); !reflect.DeepEqual(ids, []string{"evt-dup"}) {
		t.Fatalf("entries = %v, want [evt-dup] once", ids)
	}
	if got.Entries[0]["actor"] != "alice" || got.Entries[0]["reason"] != "because" {
		t.Fatalf("entry = %v, want the first delivery's actor and reason", got.Entries[0])
	}
	var rows int
	if err := f.db.GetContext(t.Context(), &rows, `SELECT COUNT(*) FROM audit_entries`); err != nil {
		t.Fatalf("count: %v", err)
	}
	if rows != 1 {
		t.Fatalf("audit_entries holds %d rows, want 1", rows)
	}
}

func TestUndecodablePayloadIsAnError(t *testing.T) { dialects(t, testUndecodablePayloadIsAnError) }

func testUndecodablePayloadIsAnError(t *testing.T, d storage.Dialect) {
	tests := []struct {
		name    string
		payload string
	}{
		{"empty", ``},
		{"not json", `flag changed!`},
		{"json array", `[1,2]`},
		{"event id not a string", `{"eventId":42,"type":"flags.v1.flag_created","occurredAt":"2025-03-01T10:00:00Z"}`},
		{"occurredAt not a time", `{"eventId":"e","type":"flags.v1.flag_created","occurredAt":"yesterday"}`},
		{"after not a definition", `{"eventId":"e","type":"flags.v1.flag_created","occurredAt":"2025-03-01T10:00:00Z","after":"on"}`},
		{"no event id", `{"type":"flags.v1.flag_created","occurredAt":"2025-03-01T10:00:00Z"}`},
		{"no type", `{"eventId":"e","occurredAt":"2025-03-01T10:00:00Z"}`},
		{"no occurredAt", `{"eventId":"e","type":"flags.v1.flag_created"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureOn(t, d)
			if err := f.deliverPayload(t, "msg-1", []byte(tt.payload)); err == nil {
				t.Fatalf("handler accepted %q; want an error so that the bus retries or poisons it", tt.payload)
			}
			if got := f.list(t, ""); len(got.Entries) != 0 {
				t.Fatalf("entries = %v after a rejected payload, want none", eventIDs(got.Entries))
			}
			var claims int
			if err := f.db.GetContext(t.Context(), &claims, `SELECT COUNT(*) FROM inbox`); err != nil {
				t.Fatalf("count inbox: %v", err)
			}
			if claims != 0 {
				t.Fatalf("inbox holds %d claims after a rejected payload, want 0", claims)
			}
		})
	}
}
