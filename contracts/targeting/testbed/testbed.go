// Package testbed loads flagd-testbed's flags and expected results, restated as data in
// contracts/targeting/testdata/flagd_testbed.json, for the tests of everything that
// evaluates flags: the engine, the flag-level resolution, the server's OFREP API and the
// SDK's local evaluation all check themselves against the same cases.
package testbed

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Testbed is the file's content.
type Testbed struct {
	Evaluators map[string]json.RawMessage `json:"evaluators"`
	Flags      map[string]Flag            `json:"flags"`
	Cases      []Case                     `json:"cases"`
}

// Flag is one testbed flag (always ENABLED).
type Flag struct {
	Variants       map[string]json.RawMessage `json:"variants"`
	DefaultVariant *string                    `json:"defaultVariant"`
	Targeting      json.RawMessage            `json:"targeting"`
}

// Case is one evaluation and what flagd answers for it.
type Case struct {
	Flag         string          `json:"flag"`
	Context      map[string]any  `json:"context"`
	Value        json.RawMessage `json:"value"`
	Reason       string          `json:"reason"`
	ErrorCode    string          `json:"errorCode"`
	CompileError string          `json:"compileError"`
}

// Load reads the testbed, failing tb when it cannot.
func Load(tb testing.TB) Testbed {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("testbed: cannot locate contracts/targeting/testdata")
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "testdata", "flagd_testbed.json"))
	if err != nil {
		tb.Fatalf("testbed: %v", err)
	}
	var t Testbed
	if err := json.Unmarshal(raw, &t); err != nil {
		tb.Fatalf("testbed: decode: %v", err)
	}
	if len(t.Cases) < 100 {
		tb.Fatalf("testbed has %d cases, want at least 100", len(t.Cases))
	}
	return t
}
