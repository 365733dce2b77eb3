package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"

	"github.com/switchyardhq/switchyard/modules/audit/internal/timeline"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// cursorVersion lets the cursor's layout change without misreading old cursors.
const cursorVersion = 1

// cursorBody is what a cursor encodes: the position of the last entry of a page.
type cursorBody struct {
	V   int   `json:"v"`
	At  int64 `json:"at"`
	Seq int64 `json:"seq"`
}

// encodeCursor returns the opaque cursor for p: base64url (unpadded) of JSON.
func encodeCursor(p timeline.Position) string {
	b, err := json.Marshal(cursorBody{V: cursorVersion, At: p.OccurredAtMs, Seq: p.Seq})
	if err != nil {
		panic("encode cursor: " + err.Error()) // three integers always marshal
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor accepts only a cursor in the exact form encodeCursor produces; anything
// else was not issued by this server (tampered, truncated, from another API) and is refused.
func decodeCursor(s string) (timeline.Position, error) {
	invalid := apperr.InvalidField("cursor", "cursor is not valid; pass nextCursor from the previous page unchanged")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return timeline.Position{}, invalid
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var body cursorBody
	if err := dec.Decode(&body); err != nil || dec.More() {
		return timeline.Position{}, invalid
	}
	p := timeline.Position{OccurredAtMs: body.At, Seq: body.Seq}
	if body.V != cursorVersion || body.Seq < 1 || encodeCursor(p) != s {
		return timeline.Position{}, invalid
	}
	return p, nil
}
