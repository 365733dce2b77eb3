package sdk_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// fakePrimary is an OFREP server on loopback whose answer the test switches: a
// static boolean true, or an error status. It counts the requests it received.
type fakePrimary struct {
	*httptest.Server
	status   atomic.Int64 // 200, or the status to answer with; 0 stalls until the client gives up
	requests atomic.Int64
	release  chan struct{} // closed when the test ends: stalled requests return
	delay    atomic.Int64  // nanoseconds to wait before a 200
}

func newFakePrimary(t *testing.T) *fakePrimary {
	f := &fakePrimary{release: make(chan struct{})}
	f.status.Store(http.StatusOK)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		// Reading the body lets net/http notice a client that hangs up (r.Context()).
		_, _ = io.Copy(io.Discard, r.Body)
		status := int(f.status.Load())
		w.Header().Set("Content-Type", "application/json")
		switch status {
		case 0:
			select {
			case <-r.Context().Done():
			case <-f.release:
			}
			return
		case http.StatusOK:
			time.Sleep(time.Duration(f.delay.Load()))
			fmt.Fprint(w, `{"key":"f","reason":"STATIC","variant":"on","value":true,"metadata":{}}`)
			return
		case http.StatusNotFound:
			w.WriteHeader(status)
			fmt.Fprint(w, `{"key":"f","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag 'f' not found"}`)
		case http.StatusBadRequest:
			w.WriteHeader(status)
			fmt.Fprint(w, `{"key":"f","errorCode":"INVALID_CONTEXT","errorDetails":"bad context"}`)
		default:
			w.WriteHeader(status)
			fmt.Fprint(w, `{"errorDetails":"injected"}`)
		}
	}))
	t.Cleanup(func() {
		close(f.release)
		f.Close()
	})
	return f
}
