package ofrepv1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Change notifications (OFREP ADR-0008, "SSE for bulk evaluation changes"): a successful
// evaluation response may list event streams; a provider connects to those of a type it
// knows and, on every refetchEvaluation message, evaluates again (the bulk request with
// If-None-Match, so an unchanged result costs a 304).

// PathEventStream is where Switchyard serves its change notifications (text/event-stream,
// GET). Clients must not hard-code it: they take the stream from a response's
// eventStreams.
const PathEventStream = "/ofrep/v1/events"

// EventStreamTypeSSE is the only event stream type OFREP defines: Server-Sent Events.
// Entries of any other type must be ignored.
const EventStreamTypeSSE = "sse"

// DefaultInactivityDelaySec is the inactivity delay a provider assumes when an event stream
// names none (ADR-0008).
const DefaultInactivityDelaySec = 120

// ChangeTypeRefetchEvaluation is the change event telling a provider to evaluate again.
// Events of any other type must be ignored.
const ChangeTypeRefetchEvaluation = "refetchEvaluation"

// SSEEventMessage is the SSE envelope's event name of every OFREP change event: providers
// route on ChangeEvent.Type, never on the envelope's event field.
const SSEEventMessage = "message"

// Query parameters of an evaluation request triggered by a change event: the event's etag
// and lastModified, as the event carried them. They are trigger metadata, not conditional
// request validators (If-None-Match stays the validator).
const (
	QueryFlagConfigETag         = "flagConfigEtag"
	QueryFlagConfigLastModified = "flagConfigLastModified"
)

// EventStream is one entry of a response's eventStreams: where to listen for changes.
// Exactly one of URL and Endpoint is set.
type EventStream struct {
	Type string `json:"type"`
	// URL is the stream's absolute URL. It may carry credentials: never log it whole.
	URL string `json:"url,omitempty"`
	// Endpoint is the stream's location relative to an origin, for deployments behind
	// proxies: Switchyard sends this form, without an origin, so that the client resolves
	// it against the origin it already talks to.
	Endpoint *EventStreamEndpoint `json:"endpoint,omitempty"`
	// InactivityDelaySec is how long a client may stay inactive (a hidden browser tab)
	// before closing the stream; 0 means DefaultInactivityDelaySec.
	InactivityDelaySec int `json:"inactivityDelaySec,omitempty"`
}

// EventStreamEndpoint is an event stream's location as an origin and a request target.
type EventStreamEndpoint struct {
	// Origin is scheme://host[:port]; empty means the origin of the OFREP base URL.
	Origin string `json:"origin,omitempty"`
	// RequestURI is the path and query, starting with "/".
	RequestURI string `json:"requestUri"`
}

// Resolve returns the absolute URL of the stream. base is the OFREP base URL the response
// came from: its origin completes an Endpoint without one (its path is not used: a
// RequestURI is absolute). It fails on a stream with neither or both of URL and Endpoint,
// or whose URL is not an absolute http(s) URL.
func (s EventStream) Resolve(base string) (string, error) {
	switch {
	case s.URL != "" && s.Endpoint != nil:
		return "", errors.New("event stream has both url and endpoint")
	case s.URL != "":
		if _, err := httpURL(s.URL); err != nil {
			return "", fmt.Errorf("event stream url: %w", err)
		}
		return s.URL, nil
	case s.Endpoint == nil:
		return "", errors.New("event stream has neither url nor endpoint")
	case !strings.HasPrefix(s.Endpoint.RequestURI, "/") || strings.HasPrefix(s.Endpoint.RequestURI, "//"):
		return "", fmt.Errorf("event stream endpoint: requestUri %q must start with a single /", s.Endpoint.RequestURI)
	}
	origin := s.Endpoint.Origin
	if origin == "" {
		origin = base
	}
	u, err := httpURL(origin)
	if err != nil {
		return "", fmt.Errorf("event stream origin: %w", err)
	}
	return u.Scheme + "://" + u.Host + s.Endpoint.RequestURI, nil
}

func httpURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http or https URL", u.Redacted())
	}
	return u, nil
}

// ChangeEvent is the JSON payload (the SSE data) of a change notification.
type ChangeEvent struct {
	// Type is ChangeTypeRefetchEvaluation, or a type to ignore.
	Type string `json:"type"`
	// ETag identifies the flag configuration the event announces. Switchyard sends the
	// ETag of its definitions snapshot (contracts/snapshotv1), quoted as in an HTTP ETag
	// header: a client that holds that snapshot ETag is current already.
	ETag string `json:"etag,omitempty"`
	// LastModified is when that configuration changed, as the server wrote it: Unix
	// seconds (Switchyard, and what OFREP recommends) or a date string. Send it unchanged
	// as the flagConfigLastModified query parameter; LastModifiedTime parses it.
	LastModified string `json:"-"`
}

// MarshalJSON writes LastModified as a JSON number when it is Unix seconds and as a string
// otherwise; an empty one is left out.
func (e ChangeEvent) MarshalJSON() ([]byte, error) {
	type plain ChangeEvent
	var lm json.RawMessage
	switch {
	case e.LastModified == "":
	case isDigits(e.LastModified):
		lm = json.RawMessage(e.LastModified)
	default:
		b, err := json.Marshal(e.LastModified)
		if err != nil {
			return nil, err
		}
		lm = b
	}
	return json.Marshal(struct {
		plain
		LastModified json.RawMessage `json:"lastModified,omitempty"`
	}{plain(e), lm})
}

// UnmarshalJSON reads lastModified as a number or a string.
func (e *ChangeEvent) UnmarshalJSON(data []byte) error {
	type plain ChangeEvent
	var v struct {
		plain
		LastModified json.RawMessage `json:"lastModified"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*e = ChangeEvent(v.plain)
	lm := bytes.TrimSpace(v.LastModified)
	switch {
	case len(lm) == 0 || string(lm) == "null":
	case lm[0] == '"':
		if err := json.Unmarshal(lm, &e.LastModified); err != nil {
			return fmt.Errorf("lastModified: %w", err)
		}
	default:
		n, err := strconv.ParseFloat(string(lm), 64)
		if err != nil || n < 0 || n != float64(int64(n)) {
			return fmt.Errorf("lastModified: %s is neither Unix seconds nor a date string", lm)
		}
		e.LastModified = strconv.FormatInt(int64(n), 10)
	}
	return nil
}

// LastModifiedTime parses LastModified: Unix seconds, RFC 3339 or an HTTP date. ok is
// false when it is empty or none of those.
func (e ChangeEvent) LastModifiedTime() (t time.Time, ok bool) {
	s := e.LastModified
	if s == "" {
		return time.Time{}, false
	}
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if t, err := http.ParseTime(s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
