package sdk

import (
	"fmt"
	"time"

	"github.com/switchyardhq/switchyard/contracts/flageval"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
)

// localFlag is one flag compiled for in-process evaluation (local mode, the last good
// snapshot, the secondary layer). contracts/flageval, the server's own code, makes every
// flag-level decision; all that is done here is the SDK's part: each resolution the
// flag can reach is turned once into a decision whose value is decoded for the typed
// methods, so that evaluating a flag without a rule allocates nothing.
type localFlag struct {
	answers *flageval.Answers[*decision]
	// metadata is the flag set's metadata with the flag's own laid over it, as the
	// server reports it; shared, read-only.
	metadata map[string]any
}

// compileFlag compiles the flag key of s with s's shared rules and metadata.
func compileFlag(s snapshotv1.Snapshot, key string) *localFlag {
	f := flageval.Compile(key, s.Flags[key], s.Evaluators)
	return &localFlag{answers: flageval.NewAnswers(f, decisionOf), metadata: s.MergedMetadata(key)}
}

// evaluate answers for evalCtx (read, never modified). Only a flag with a rule to run
// reads the clock ($flagd.timestamp).
func (f *localFlag) evaluate(evalCtx map[string]any, src Source) answer {
	d, static := f.answers.Static()
	if !static {
		d = f.answers.Evaluate(evalCtx, time.Now().Unix())
	}
	return answer{d: d, metadata: f.metadata, source: src}
}

// decisionOf is the SDK's form of a resolution of contracts/flageval.
func decisionOf(r flageval.Result) *decision {
	if r.ErrorCode != "" {
		return failedDecision(r.ErrorCode, r.ErrorDetails)
	}
	var variant string
	if r.Variant != nil {
		variant = *r.Variant
	}
	d, err := newDecision(r.Reason, variant, r.Value)
	if err != nil {
		// flageval hands out the values it compacted, so this is not expected; if it
		// happens, the flag cannot be served, as on a definition that is not valid.
		return failedDecision(ofrepv1.ErrorGeneral, fmt.Sprintf("decode the value of variant '%s': %v", variant, err))
	}
	return d
}
