package ofrepv1

import "encoding/json"

// Paths of the OFREP core endpoints.
const (
	PathEvaluateFlag  = "/ofrep/v1/evaluate/flags/:key"
	PathEvaluateFlags = "/ofrep/v1/evaluate/flags"
)

// Resolution reasons (OpenFeature specification, "Resolution Details").
const (
	ReasonStatic         = "STATIC"
	ReasonDefault        = "DEFAULT"
	ReasonTargetingMatch = "TARGETING_MATCH"
	ReasonSplit          = "SPLIT"
	ReasonDisabled       = "DISABLED"
	ReasonError          = "ERROR"
)

// Error codes (OpenFeature specification, "Error Code").
const (
	ErrorFlagNotFound        = "FLAG_NOT_FOUND"
	ErrorParse               = "PARSE_ERROR"
	ErrorTypeMismatch        = "TYPE_MISMATCH"
	ErrorTargetingKeyMissing = "TARGETING_KEY_MISSING"
	ErrorInvalidContext      = "INVALID_CONTEXT"
	ErrorGeneral             = "GENERAL"
)

// EvaluationRequest is the body of single and bulk evaluation requests.
type EvaluationRequest struct {
	Context map[string]any `json:"context"`
}

// Evaluation is one flag's result: a success (Reason set, ErrorCode empty) or a failure
// (ErrorCode set). A success without Value is OFREP's codeDefaultFlag: the caller must use
// its own code default (defaultVariant null, or the flag is DISABLED).
type Evaluation struct {
	Key          string          `json:"key"`
	Reason       string          `json:"reason,omitempty"`
	Variant      string          `json:"variant,omitempty"`
	Value        json.RawMessage `json:"value,omitempty"`
	Metadata     map[string]any  `json:"metadata,omitempty"`
	ErrorCode    string          `json:"errorCode,omitempty"`
	ErrorDetails string          `json:"errorDetails,omitempty"`
	// EventStreams (single evaluations only; ADR-0008) are where to listen for changes.
	EventStreams []EventStream `json:"eventStreams,omitempty"`
}

// BulkEvaluation is the body of a successful bulk evaluation. Items may be failures.
type BulkEvaluation struct {
	Flags []Evaluation `json:"flags"`
	// EventStreams (ADR-0008) are where to listen for changes: see EventStream.
	EventStreams []EventStream `json:"eventStreams,omitempty"`
}

// GeneralError is the body of a 500 (and of a bulk 400 with ErrorCode).
type GeneralError struct {
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorDetails string `json:"errorDetails"`
}
