package sdk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// cacheKey is flagKey and a stable hash of evalCtx: equal contexts (whatever their map
// order) give equal keys, in this process and in every replica sharing Redis, since
// encoding/json writes map keys sorted. The hash is 128 bits of SHA-256.
func cacheKey(flagKey string, evalCtx map[string]any) (string, error) {
	if evalCtx == nil {
		evalCtx = map[string]any{}
	}
	data, err := json.Marshal(evalCtx)
	if err != nil {
		return "", fmt.Errorf("%w: the evaluation context cannot be encoded as JSON: %w", ErrBadInput, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16]) + ":" + flagKey, nil
}
