package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
)

// snapshot is a definitions snapshot compiled for evaluation. It is immutable.
type snapshot struct {
	etag     string // the server's ETag; empty for a snapshot read from a file
	revision int64
	origin   string // "server", "snapshot file" or "bootstrap file", for logs
	flags    map[string]*localFlag
	body     []byte // as served, to persist
}

// compileSnapshot compiles every flag of s with the server's engine.
func compileSnapshot(s snapshotv1.Snapshot, etag, origin string, body []byte) *snapshot {
	out := &snapshot{etag: etag, revision: s.Revision, origin: origin, body: body, flags: make(map[string]*localFlag, len(s.Flags))}
	for key := range s.Flags {
		out.flags[key] = compileFlag(s, key)
	}
	return out
}

var flagNotFound = failedDecision(ofrepv1.ErrorFlagNotFound, "flag not found in the snapshot")

// evaluate answers key for evalCtx. It allocates nothing for a flag whose answer does
// not depend on the context.
func (s *snapshot) evaluate(key string, evalCtx map[string]any, src Source) answer {
	f, ok := s.flags[key]
	if !ok {
		return answer{d: flagNotFound, source: src}
	}
	return f.evaluate(evalCtx, src)
}

// readSnapshotFile reads and compiles a snapshot written by writeSnapshotFile, or a
// bootstrap file in the same format.
func readSnapshotFile(path, origin string) (*snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", origin, err)
	}
	s, err := snapshotv1.Decode(withEnvironment(data))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", origin, path, err)
	}
	return compileSnapshot(s, "", origin, data), nil
}

// withEnvironment lets a plain flagd flag file (no environment, no revision) be read as
// a snapshot: it names the environment "bootstrap" when the file names none.
func withEnvironment(data []byte) []byte {
	var doc map[string]json.RawMessage
	if json.Unmarshal(data, &doc) != nil {
		return data // Decode reports the error
	}
	if _, ok := doc["environment"]; ok {
		return data
	}
	doc["environment"] = json.RawMessage(`"bootstrap"`)
	out, err := json.Marshal(doc)
	if err != nil {
		return data
	}
	return out
}

// writeSnapshotFile replaces path with body atomically: a crash leaves the old file or
// the new one, never a torn one.
func writeSnapshotFile(path string, body []byte) (err error) {
	if len(body) == 0 {
		return errors.New("write snapshot file: empty snapshot")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write snapshot file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(body); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write snapshot file: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write snapshot file: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write snapshot file: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write snapshot file: %w", err)
	}
	return nil
}
