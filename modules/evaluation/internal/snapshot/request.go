package snapshot

import (
	"encoding/json"
	"fmt"
	"time"
)

// Request is one evaluation request as flags see it: its context, decoded only when a
// targeted flag needs it and then once for every flag of a bulk evaluation, and the
// time that $flagd.timestamp reports.
type Request struct {
	raw     json.RawMessage
	now     int64
	done    bool
	context map[string]any
	err     error
}

// NewRequest wraps a request's context object (nil for none) evaluated at now.
func NewRequest(evalCtx json.RawMessage, now time.Time) *Request {
	return &Request{raw: evalCtx, now: now.Unix()}
}

func (r *Request) decoded() (map[string]any, error) {
	if r.done {
		return r.context, r.err
	}
	r.done = true
	if len(r.raw) == 0 {
		r.context = map[string]any{}
		return r.context, nil
	}
	if err := json.Unmarshal(r.raw, &r.context); err != nil {
		r.err = fmt.Errorf("context is not a JSON object: %w", err)
	}
	return r.context, r.err
}
