package flagsv1

import "encoding/json"

// Flag states, as the flagd flag-definition schema names them.
const (
	StateEnabled  = "ENABLED"
	StateDisabled = "DISABLED"
)

// Definition is one flag in the flagd flag-definition format
// (https://flagd.dev/reference/flag-definitions/). Variant values and targeting rules are
// kept as raw JSON so that a definition survives a round trip byte-for-byte in meaning.
type Definition struct {
	State          string                     `json:"state"`
	Variants       map[string]json.RawMessage `json:"variants"`
	DefaultVariant *string                    `json:"defaultVariant"`
	Targeting      json.RawMessage            `json:"targeting,omitempty"`
	Metadata       map[string]any             `json:"metadata,omitempty"`
}
