package outbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/outbox"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// TestTwoRelaysOverOneOutboxDeliverEachRowOnce runs two relays, each with its own pool,
// over one outbox, as two replicas of the binary do: every row reaches the consumer
// exactly once, and none is left behind.
func TestTwoRelaysOverOneOutboxDeliverEachRowOnce(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			migratetest.RequireDialect(t, d)
			open := outboxStore(t, d)
			first, second := open(), open()

			const rows = 200
			now := time.Now()
			for i := range rows {
				tx, err := first.Beginx()
				if err != nil {
					t.Fatal(err)
				}
				m := outbox.Message{EventID: fmt.Sprintf("e%03d", i), Topic: "t", EventType: "x.v1.y", Payload: []byte(`{}`)}
				if err := outbox.Enqueue(context.Background(), tx, m, now, 0); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}

			var mu sync.Mutex
			seen := map[string]int{}
			handler := bus.Handler{Name: "counter", Topic: "t", Handle: func(msg *message.Message) error {
				mu.Lock()
				defer mu.Unlock()
				seen[msg.UUID]++
				return nil
			}}
			deliverer, err := bus.NewSync(handler)
			if err != nil {
				t.Fatal(err)
			}
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			relays := []*outbox.Relay{
				outbox.NewRelay(first, deliverer, logger, outbox.RelayOptions{Batch: 7}),
				outbox.NewRelay(second, deliverer, logger, outbox.RelayOptions{Batch: 7}),
			}
			var wg sync.WaitGroup
			for _, r := range relays {
				wg.Go(func() {
					for range 200 {
						if _, err := r.DeliverDue(context.Background()); err != nil {
							t.Error(err)
							return
						}
						b, err := r.Backlog(context.Background())
						if err != nil || b.Pending == 0 {
							return
						}
					}
				})
			}
			wg.Wait()

			if len(seen) != rows {
				t.Fatalf("%d of %d events delivered", len(seen), rows)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("event %s delivered %d times by two relays", id, n)
				}
			}
			if b, err := relays[0].Backlog(context.Background()); err != nil || b.Pending != 0 {
				t.Fatalf("backlog after both relays: %+v %v", b, err)
			}
		})
	}
}
