//go:build !command && !read

package main

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestShutdownEndsOpenChangeStreams: SSE change-notification streams never go idle, so a
// graceful shutdown must end them itself rather than wait out its timeout (and fail).
func TestShutdownEndsOpenChangeStreams(t *testing.T) {
	s := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_SHUTDOWN_TIMEOUT": "5s"})
	var bodies []*bufio.Reader
	for range 3 {
		req, err := http.NewRequest(http.MethodGet, s.base+"/ofrep/v1/events", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("GET /ofrep/v1/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		r := bufio.NewReader(resp.Body)
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatalf("stream sent nothing: %v", err)
		}
		bodies = append(bodies, r)
	}
	began := time.Now()
	s.stop() // fails the test if run returns an error (a drain that timed out)
	if took := time.Since(began); took > 4*time.Second {
		t.Fatalf("shutdown took %s with streams open, want them ended at once", took)
	}
	for i, r := range bodies {
		if _, err := r.ReadString(0); err == nil {
			t.Fatalf("stream %d still open after shutdown", i)
		}
	}
}
