package ofrephttp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
)

// MaxSnapshotBytes bounds a definitions snapshot: a larger body is an error, never decoded.
const MaxSnapshotBytes = 64 << 20

// SnapshotResult is the outcome of FetchSnapshot.
type SnapshotResult struct {
	// Snapshot is the decoded, checked snapshot; zero when NotModified.
	Snapshot snapshotv1.Snapshot
	// Body is the response body exactly as served, to persist byte for byte (decode it
	// again with snapshotv1.Decode); nil when NotModified.
	Body []byte
	// ETag identifies the snapshot: send it as ifNoneMatch next time. A change event whose
	// ETag equals it announces nothing new.
	ETag string
	// LastModified is the response's Last-Modified; zero when absent.
	LastModified time.Time
	// NotModified reports a 304: the snapshot held under ifNoneMatch is current.
	NotModified bool
}

// FetchSnapshot gets the definitions snapshot of the server's default environment
// (GET snapshotv1.Path), with If-None-Match when ifNoneMatch is not empty. A 304 is not
// an error: NotModified is set and ETag is the server's (or ifNoneMatch when it repeated
// none). Any other status but 200 is an *HTTPError (a 503 while the server loads, with
// RetryAfter); a body over MaxSnapshotBytes or one snapshotv1.Decode refuses is an error.
func (c *Client) FetchSnapshot(ctx context.Context, ifNoneMatch string) (SnapshotResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+snapshotv1.Path, nil)
	if err != nil {
		return SnapshotResult{}, fmt.Errorf("fetch snapshot: new request: %w", err)
	}
	for name, values := range c.header {
		req.Header[name] = append([]string(nil), values...)
	}
	req.Header.Set("Accept", mimeJSON)
	if ifNoneMatch != "" {
		req.Header.Set(headerIfNoneMatch, ifNoneMatch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return SnapshotResult{}, fmt.Errorf("fetch snapshot: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.ContentLength > MaxSnapshotBytes {
		return SnapshotResult{}, fmt.Errorf("fetch snapshot: response body (HTTP %d) of %d bytes exceeds %d bytes", resp.StatusCode, resp.ContentLength, MaxSnapshotBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxSnapshotBytes+1))
	if err != nil {
		return SnapshotResult{}, fmt.Errorf("fetch snapshot: read response (HTTP %d): %w", resp.StatusCode, err)
	}
	if len(data) > MaxSnapshotBytes {
		return SnapshotResult{}, fmt.Errorf("fetch snapshot: response body (HTTP %d) exceeds %d bytes", resp.StatusCode, MaxSnapshotBytes)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: data}
	switch resp.StatusCode {
	case http.StatusOK:
		snap, err := snapshotv1.Decode(data)
		if err != nil {
			return SnapshotResult{}, fmt.Errorf("fetch snapshot: %w", err)
		}
		res := SnapshotResult{Snapshot: snap, Body: data, ETag: resp.Header.Get(headerETag)}
		if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
			res.LastModified = t
		}
		return res, nil
	case http.StatusNotModified:
		if ifNoneMatch == "" {
			break
		}
		etag := resp.Header.Get(headerETag)
		if etag == "" {
			etag = ifNoneMatch
		}
		return SnapshotResult{ETag: etag, NotModified: true}, nil
	}
	return SnapshotResult{}, fmt.Errorf("fetch snapshot: %w", r.httpError())
}
