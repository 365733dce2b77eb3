package evaluation_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/platform/storage"
)

// TestReplicasSharingAStoreConverge runs two evaluation modules over one store, as two
// read replicas on one PostgreSQL schema do. Each event is applied once per store (the
// inbox), by whichever replica gets it; the other one catches up through Follow.
func TestReplicasSharingAStoreConverge(t *testing.T) {
	dialects(t, func(t *testing.T, d storage.Dialect) {
		a := newHarnessOn(t, d)
		a.start()
		b := a.reopen()
		b.start()

		a.mustDeliver(created(t, "r1", "shared", 1, `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"}`))
		if rec := b.evaluate("shared", `{}`); rec.Code != http.StatusNotFound {
			t.Fatalf("before following, replica b already serves the flag: %d %s", rec.Code, rec.Body)
		}
		// The same event reaching b too (a broker redelivering to the other replica) is a duplicate there.
		b.mustDeliver(created(t, "r1", "shared", 1, `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"}`))

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.mod.Follow(ctx, 10*time.Millisecond) }()
		deadline := time.Now().Add(10 * time.Second)
		for b.evaluate("shared", `{}`).Code != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatal("replica b never caught up with the store")
			}
			time.Sleep(5 * time.Millisecond)
		}
		a.mustDeliver(archived(t, "r2", "shared", 2))
		for b.evaluate("shared", `{}`).Code != http.StatusNotFound {
			if time.Now().After(deadline) {
				t.Fatal("replica b never saw the archive")
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		assertResponse(t, a.bulk(`{}`), http.StatusOK, `{"flags":[]}`)
		assertResponse(t, b.bulk(`{}`), http.StatusOK, `{"flags":[]}`)
	})
}
