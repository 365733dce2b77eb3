package sdk

import "fmt"

// Source is the layer an evaluation's answer came from.
type Source uint8

// The layers, in the order an evaluation tries them.
const (
	// SourceDefault: no layer answered; the value is the caller's default.
	SourceDefault Source = iota
	// SourceLocal: evaluated in-process from the synced snapshot (LocalEvaluation).
	SourceLocal
	// SourceMemory: the in-process cache.
	SourceMemory
	// SourceRedis: the shared Redis cache.
	SourceRedis
	// SourcePrimary: Switchyard's OFREP API.
	SourcePrimary
	// SourceSecondary: the read-only PostgreSQL store.
	SourceSecondary
	// SourceSnapshot: the last good snapshot (from the server, SnapshotFile or
	// BootstrapFile), evaluated in-process because no remote layer answered.
	SourceSnapshot
	numSources
)

var sourceNames = [numSources]string{"default", "local", "memory", "redis", "primary", "secondary", "snapshot"}

func (s Source) String() string {
	if s < numSources {
		return sourceNames[s]
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// MarshalText makes a Source its name in JSON and logs.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Sources lists every Source, in order.
func Sources() []Source {
	out := make([]Source, numSources)
	for i := range out {
		out[i] = Source(i)
	}
	return out
}

// remoteLayers are the layers behind a circuit breaker.
var remoteLayers = [...]Source{SourceRedis, SourcePrimary, SourceSecondary}
