package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"

	"github.com/switchyardhq/switchyard/modules/audit/internal/timeline"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// followCursorVersion lets the follow cursor's layout change without misreading old
// cursors. Its JSON key differs from the list cursor's "v", so that neither endpoint
// accepts the other's cursor.
const followCursorVersion = 1

// followCursorBody is what a follow cursor encodes: a follow position (a seq).
type followCursorBody struct {
	Follow int   `json:"follow"`
	Seq    int64 `json:"seq"`
}

// Where GET /api/v1/audit/changes starts when no after cursor is given.
const (
	startBeginning = "beginning" // the oldest entry: the whole timeline, then what follows
	startNow       = "now"       // the newest entry: only what is recorded from now on
)

func knownFollowParams() []string {
	return []string{"environment", "flag", "actor", "after", "start", "limit"}
}

// followQuery is a parsed GET /api/v1/audit/changes request.
type followQuery struct {
	filter timeline.FollowFilter
	// fromNow asks for the head only: an empty page whose next cursor skips the history.
	fromNow bool
}

// parseFollowQuery turns the raw query string of GET /api/v1/audit/changes into a query,
// with the same strictness as parseQuery. since and until are not parameters here: the
// follow order is the order of recording, not of occurrence.
func parseFollowQuery(rawQuery string) (followQuery, error) {
	values, err := parseValues(rawQuery, knownFollowParams())
	if err != nil {
		return followQuery{}, err
	}
	var q followQuery
	f := &q.filter
	if err := parseSelectors(values, &f.Environment, &f.FlagKey, &f.Actor); err != nil {
		return followQuery{}, err
	}
	if f.Limit, err = parseLimit(values); err != nil {
		return followQuery{}, err
	}
	// An empty after is no cursor, like an empty cursor on GET /api/v1/audit.
	after := values.Get("after")
	if start, ok := values["start"]; ok {
		switch {
		case start[0] != startBeginning && start[0] != startNow:
			return followQuery{}, apperr.InvalidField("start", "start must be %q or %q, got %q", startBeginning, startNow, start[0])
		case after != "":
			return followQuery{}, apperr.InvalidField("start", "start and after exclude each other: start begins following, after resumes it")
		}
		q.fromNow = start[0] == startNow
	}
	if after != "" {
		if f.After, err = decodeFollowCursor(after); err != nil {
			return followQuery{}, err
		}
	}
	return q, nil
}

// encodeFollowCursor returns the opaque follow cursor for seq: base64url (unpadded) of JSON.
func encodeFollowCursor(seq int64) string {
	b, err := json.Marshal(followCursorBody{Follow: followCursorVersion, Seq: seq})
	if err != nil {
		panic("encode follow cursor: " + err.Error()) // two integers always marshal
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeFollowCursor accepts only a cursor in the exact form encodeFollowCursor produces.
func decodeFollowCursor(s string) (int64, error) {
	invalid := apperr.InvalidField("after", "after is not valid; pass next from the previous response unchanged")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, invalid
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var body followCursorBody
	if err := dec.Decode(&body); err != nil || dec.More() {
		return 0, invalid
	}
	// Seq 0 is the beginning: the next cursor of an empty timeline.
	if body.Follow != followCursorVersion || body.Seq < 0 || encodeFollowCursor(body.Seq) != s {
		return 0, invalid
	}
	return body.Seq, nil
}
