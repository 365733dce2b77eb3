package suite

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
)

// ChangeStream is what an SDK relies on to stay current: the read side's change stream
// (OFREP ADR-0008) announces a write made on the command side, and the definitions
// snapshot it points at holds that write under the announced ETag.
func ChangeStream(t *testing.T, d Deployment) {
	t.Helper()
	client, err := ofrephttp.New(d.Read)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		mu     sync.Mutex
		events []ofrepv1.ChangeEvent
	)
	ended := make(chan error, 1)
	go func() {
		ended <- client.Watch(ctx, d.Read+ofrepv1.PathEventStream, func(ev ofrepv1.ChangeEvent) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, ev)
		})
	}()
	latest := func() (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if len(events) == 0 {
			return 0, ""
		}
		return len(events), events[len(events)-1].ETag
	}
	Eventually(t, "the stream's first event (the current ETag)", func() bool { n, _ := latest(); return n >= 1 })
	_, before := latest()

	if r := d.Do(t, d.Command, http.MethodPut, "/api/v1/environments/development/flags/announced", NewBanner, nil); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var announced string
	Eventually(t, "an event announcing the write", func() bool {
		_, etag := latest()
		announced = etag
		return etag != "" && etag != before
	})
	snap, err := client.FetchSnapshot(ctx, "")
	if err != nil {
		t.Fatalf("definitions snapshot: %v", err)
	}
	if _, ok := snap.Snapshot.Flags["announced"]; !ok || snap.ETag != announced {
		t.Fatalf("snapshot ETag %s with flags %d (announced: %v); want the announced ETag %s holding the new flag",
			snap.ETag, len(snap.Snapshot.Flags), ok, announced)
	}
	if again, err := client.FetchSnapshot(ctx, announced); err != nil || !again.NotModified {
		t.Fatalf("snapshot with If-None-Match of the announced ETag: %+v, %v; want 304", again, err)
	}
	cancel()
	<-ended
}
