package migrate_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/platform/migrate"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// TestReplicasStartingTogetherMigrateOnce: the pods of a Deployment start at the same
// moment on an empty PostgreSQL database; every one of them must come up (none crashes on
// a duplicate schema or version table) and the migrations run once.
func TestReplicasStartingTogetherMigrateOnce(t *testing.T) {
	migratetest.RequireDialect(t, storage.Postgres)
	_, dsn, _ := migratetest.Database(t)
	const replicas = 4
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, module := range []string{"flags", "evaluation", "audit"} {
		t.Run(module, func(t *testing.T) {
			var wg sync.WaitGroup
			versions := make([]int64, replicas)
			errs := make([]error, replicas)
			start := make(chan struct{})
			for i := range replicas {
				wg.Go(func() {
					<-start
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					db, _, v, err := migrate.Open(ctx, dsn, module, migrations.For, logger)
					if err == nil {
						_ = db.Close()
					}
					versions[i], errs[i] = v, err
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("replica %d: %v", i, err)
				}
				if versions[i] != versions[0] || versions[i] == 0 {
					t.Fatalf("replicas report versions %v, want one non-zero version", versions)
				}
			}
		})
	}
}
