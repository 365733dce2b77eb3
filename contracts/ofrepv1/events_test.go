package ofrepv1_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

func TestEventStreamResolve(t *testing.T) {
	const base = "https://flags.example.com/prefix"
	tests := []struct {
		name    string
		stream  ofrepv1.EventStream
		want    string
		wantErr string
	}{
		{"absolute url as is", ofrepv1.EventStream{Type: "sse", URL: "https://sse.example.com/s?channel=a&token=t"},
			"https://sse.example.com/s?channel=a&token=t", ""},
		{"endpoint without origin takes the base's origin, not its path",
			ofrepv1.EventStream{Type: "sse", Endpoint: &ofrepv1.EventStreamEndpoint{RequestURI: "/ofrep/v1/events"}},
			"https://flags.example.com/ofrep/v1/events", ""},
		{"endpoint with origin and query",
			ofrepv1.EventStream{Type: "sse", Endpoint: &ofrepv1.EventStreamEndpoint{Origin: "http://127.0.0.1:9000", RequestURI: "/events?channels=x"}},
			"http://127.0.0.1:9000/events?channels=x", ""},
		{"both", ofrepv1.EventStream{URL: "https://a/x", Endpoint: &ofrepv1.EventStreamEndpoint{RequestURI: "/x"}}, "", "both url and endpoint"},
		{"neither", ofrepv1.EventStream{Type: "sse"}, "", "neither url nor endpoint"},
		{"relative url", ofrepv1.EventStream{URL: "/ofrep/v1/events"}, "", "not an absolute http or https URL"},
		{"other scheme", ofrepv1.EventStream{URL: "ftp://a/b"}, "", "not an absolute http or https URL"},
		{"request uri without slash", ofrepv1.EventStream{Endpoint: &ofrepv1.EventStreamEndpoint{RequestURI: "events"}}, "", "must start with a single /"},
		{"request uri naming another host", ofrepv1.EventStream{Endpoint: &ofrepv1.EventStreamEndpoint{RequestURI: "//evil.example.com/x"}}, "", "must start with a single /"},
		{"bad origin", ofrepv1.EventStream{Endpoint: &ofrepv1.EventStreamEndpoint{Origin: "flags.example.com", RequestURI: "/x"}}, "", "origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.stream.Resolve(base)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve = %q, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestEventStreamJSON(t *testing.T) {
	var s ofrepv1.EventStream
	const in = `{"type":"sse","endpoint":{"origin":"https://o.example.com","requestUri":"/e"},"inactivityDelaySec":60}`
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if s.Type != "sse" || s.Endpoint == nil || s.Endpoint.Origin != "https://o.example.com" || s.Endpoint.RequestURI != "/e" || s.InactivityDelaySec != 60 {
		t.Fatalf("decoded %+v", s)
	}
	out, err := json.Marshal(s)
	if err != nil || string(out) != in {
		t.Fatalf("encoded %s, %v; want %s", out, err, in)
	}
}

func TestChangeEventJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ofrepv1.ChangeEvent
		wantErr bool
	}{
		{"unix seconds", `{"type":"refetchEvaluation","etag":"\"c3-ab\"","lastModified":1771622898}`,
			ofrepv1.ChangeEvent{Type: "refetchEvaluation", ETag: `"c3-ab"`, LastModified: "1771622898"}, false},
		{"seconds written as a float without fraction", `{"type":"refetchEvaluation","lastModified":1771622898.0}`,
			ofrepv1.ChangeEvent{Type: "refetchEvaluation", LastModified: "1771622898"}, false},
		{"date string", `{"type":"refetchEvaluation","lastModified":"2026-02-20T21:28:18Z"}`,
			ofrepv1.ChangeEvent{Type: "refetchEvaluation", LastModified: "2026-02-20T21:28:18Z"}, false},
		{"null", `{"type":"refetchEvaluation","lastModified":null}`, ofrepv1.ChangeEvent{Type: "refetchEvaluation"}, false},
		{"absent, unknown fields ignored", `{"type":"somethingNew","x":1}`, ofrepv1.ChangeEvent{Type: "somethingNew"}, false},
		{"negative", `{"type":"refetchEvaluation","lastModified":-1}`, ofrepv1.ChangeEvent{}, true},
		{"fraction", `{"type":"refetchEvaluation","lastModified":1.5}`, ofrepv1.ChangeEvent{}, true},
		{"object", `{"type":"refetchEvaluation","lastModified":{}}`, ofrepv1.ChangeEvent{}, true},
		{"not an object", `"refetchEvaluation"`, ofrepv1.ChangeEvent{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ofrepv1.ChangeEvent
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("decoded %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}

	encode := []struct {
		ev   ofrepv1.ChangeEvent
		want string
	}{
		{ofrepv1.ChangeEvent{Type: "refetchEvaluation", ETag: `"c1-00"`, LastModified: "1771622898"},
			`{"type":"refetchEvaluation","etag":"\"c1-00\"","lastModified":1771622898}`},
		{ofrepv1.ChangeEvent{Type: "refetchEvaluation", LastModified: "2026-02-20T21:28:18Z"},
			`{"type":"refetchEvaluation","lastModified":"2026-02-20T21:28:18Z"}`},
		{ofrepv1.ChangeEvent{Type: "refetchEvaluation"}, `{"type":"refetchEvaluation"}`},
	}
	for _, tt := range encode {
		got, err := json.Marshal(tt.ev)
		if err != nil || string(got) != tt.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tt.ev, got, err, tt.want)
		}
	}
}

func TestChangeEventLastModifiedTime(t *testing.T) {
	want := time.Date(2026, 2, 20, 21, 28, 18, 0, time.UTC)
	for _, lm := range []string{"1771622898", "2026-02-20T21:28:18Z", "Fri, 20 Feb 2026 21:28:18 GMT"} {
		got, ok := ofrepv1.ChangeEvent{LastModified: lm}.LastModifiedTime()
		if !ok || !got.Equal(want) {
			t.Errorf("LastModifiedTime(%q) = %v, %v; want %v", lm, got, ok, want)
		}
	}
	for _, lm := range []string{"", "yesterday", "99999999999999999999"} {
		if got, ok := (ofrepv1.ChangeEvent{LastModified: lm}).LastModifiedTime(); ok {
			t.Errorf("LastModifiedTime(%q) = %v, want not ok", lm, got)
		}
	}
}
