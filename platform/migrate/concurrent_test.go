package migrate_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/switchyardhq/switchyard/platform/migrate"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// replicaMigrations is a module's migrations as the tests need them: three versions of
// tables (each a catalog type too, where two unguarded runs collide) and indexes.
func replicaMigrations(module, dialect string) (fs.FS, error) {
	files := fstest.MapFS{}
	for v := 1; v <= 3; v++ {
		var up, down strings.Builder
		for i := range 4 {
			name := fmt.Sprintf("%s_v%d_t%d", module, v, i)
			fmt.Fprintf(&up, "CREATE TABLE %s (id BIGINT PRIMARY KEY, name TEXT NOT NULL);\nCREATE INDEX %s_name ON %s (name);\n", name, name, name)
			fmt.Fprintf(&down, "DROP TABLE %s;\n", name)
		}
		files[fmt.Sprintf("%05d_v%d.sql", v, v)] = &fstest.MapFile{Data: []byte("-- +goose Up\n" + up.String() + "-- +goose Down\n" + down.String())}
	}
	return files, nil
}

// TestReplicasStartingTogetherMigrateOnce: the pods of a Deployment start at the same
// moment on an empty PostgreSQL database; every one of them must come up (none crashes on
// a duplicate schema or version table) and the migrations run once.
func TestReplicasStartingTogetherMigrateOnce(t *testing.T) {
	migratetest.RequireDialect(t, storage.Postgres)
	_, dsn, _ := migratetest.Database(t)
	const replicas = 6
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
					db, _, v, err := migrate.Open(ctx, dsn, module, replicaMigrations, logger)
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
				if versions[i] != 3 {
					t.Fatalf("replicas report versions %v, want 3 for every one", versions)
				}
			}
		})
	}
}
