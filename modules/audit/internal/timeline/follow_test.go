package timeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// unorderedEnv, set to 1, runs TestFollowConcurrentRecorders without the follow lock, to
// see it fail: `SWITCHYARD_TEST_AUDIT_UNORDERED=1 go test -run ConcurrentRecorders ./modules/audit/internal/timeline/`.
const unorderedEnv = "SWITCHYARD_TEST_AUDIT_UNORDERED"

const consumer = "audit-test"

func openStore(t *testing.T, d storage.Dialect) (*Store, *sqlx.DB) {
	t.Helper()
	migratetest.RequireDialect(t, d)
	db := migratetest.Open(t, d, filepath.Join(t.TempDir(), "audit.db"), "audit", migrations.For)
	return NewStore(db), db
}

func testEntry(id, env string) Entry {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	return Entry{EventID: id, EventType: "flags.v1.flag_updated", Action: "flag.updated", OccurredAt: at,
		RecordedAt: at, Actor: "alice", Environment: env, FlagKey: "checkout", Version: 1}
}

// followAll follows from after until a page comes back empty, and returns what it saw.
func followAll(ctx context.Context, s *Store, f FollowFilter) ([]Entry, int64, error) {
	var seen []Entry
	for {
		page, err := s.Follow(ctx, f)
		if err != nil {
			return seen, f.After, err
		}
		seen = append(seen, page.Entries...)
		f.After = page.Next
		if len(page.Entries) == 0 {
			return seen, f.After, nil
		}
	}
}

func ids(entries []Entry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.EventID)
	}
	return out
}

// followLockWaiters counts the recorders of this store's schema waiting for the follow lock.
func followLockWaiters(ctx context.Context, db *sqlx.DB) (int, error) {
	const q = `SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
AND classid = $1::oid AND objid = 'audit_entries'::regclass::oid AND objsubid = 2`
	var n int
	err := db.GetContext(ctx, &n, q, followLockClass)
	return n, err
}

// TestFollowSeesLateCommit replays, step by step, the interleaving the follow lock is for:
// recorder 1 inserts (drawing the lower seq) and is slow to commit; recorder 2 inserts
// after it and would commit first; a follower polls in between. With the lock, recorder 2
// waits and the follower sees both, in commit order; without it the follower moves past
// recorder 1's seq before that commits, and never sees it.
func TestFollowSeesLateCommit(t *testing.T) {
	tests := []struct {
		name      string
		unordered bool
		want      []string
	}{
		{"follow lock: the slow commit is seen, then the one that waited for it", false, []string{"slow", "fast"}},
		{"no follow lock: the follower skips the slow commit", true, []string{"fast"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, db := openStore(t, storage.Postgres)
			ctx := t.Context()
			s.unordered = tt.unordered
			inserted, release := make(chan struct{}), make(chan struct{})
			s.beforeCommit = func(ctx context.Context, e Entry) error {
				if e.EventID != "slow" {
					return nil
				}
				close(inserted)
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			slowDone, fastDone := make(chan error, 1), make(chan error, 1)
			go func() { _, err := s.Record(ctx, consumer, testEntry("slow", "prod")); slowDone <- err }()
			<-inserted
			go func() { _, err := s.Record(ctx, consumer, testEntry("fast", "prod")); fastDone <- err }()

			// Wait until the fast recorder has committed or waits for the lock.
			fastFinished := false
			for deadline := time.Now().Add(10 * time.Second); ; {
				select {
				case err := <-fastDone:
					if err != nil {
						t.Fatalf("record fast: %v", err)
					}
					fastFinished = true
				default:
				}
				n, err := followLockWaiters(ctx, db)
				if err != nil {
					t.Fatalf("count lock waiters: %v", err)
				}
				if fastFinished || n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("fast recorder neither committed nor waited for the follow lock within 10s")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if fastFinished == !tt.unordered {
				t.Fatalf("fast recorder finished = %v while the slow one is open, want %v", fastFinished, tt.unordered)
			}

			first, err := s.Follow(ctx, FollowFilter{Limit: 10})
			if err != nil {
				t.Fatalf("follow while the slow recorder is open: %v", err)
			}
			close(release)
			if err := <-slowDone; err != nil {
				t.Fatalf("record slow: %v", err)
			}
			if !fastFinished {
				if err := <-fastDone; err != nil {
					t.Fatalf("record fast: %v", err)
				}
			}
			rest, _, err := followAll(ctx, s, FollowFilter{After: first.Next, Limit: 10})
			if err != nil {
				t.Fatalf("follow after both committed: %v", err)
			}
			if got := ids(append(first.Entries, rest...)); !slices.Equal(got, tt.want) {
				t.Fatalf("follower saw %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFollowConcurrentRecorders records entries from many goroutines at once, each
// transaction pausing a random while between its insert and its commit, while followers
// poll with small random page sizes, one of them filtered. Each follower must see every
// entry it selects exactly once, in seq order.
func TestFollowConcurrentRecorders(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) { testFollowConcurrentRecorders(t, d) })
	}
}

func testFollowConcurrentRecorders(t *testing.T, d storage.Dialect) {
	const writers, perWriter = 8, 25
	s, _ := openStore(t, d)
	if os.Getenv(unorderedEnv) == "1" {
		t.Logf("%s=1: recording without the follow lock", unorderedEnv)
		s.unordered = true
	}
	s.beforeCommit = func(ctx context.Context, _ Entry) error {
		select {
		case <-time.After(rand.N(3 * time.Millisecond)):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ctx := t.Context()

	var wantAll, wantProd []string
	for w := range writers {
		for i := range perWriter {
			id := fmt.Sprintf("w%d-%02d", w, i)
			wantAll = append(wantAll, id)
			if (w+i)%3 == 0 {
				wantProd = append(wantProd, id)
			}
		}
	}

	var writing sync.WaitGroup
	writeErrs := make(chan error, writers)
	for w := range writers {
		writing.Go(func() {
			for i := range perWriter {
				env := "staging"
				if (w+i)%3 == 0 {
					env = "prod"
				}
				time.Sleep(rand.N(time.Millisecond))
				if _, err := s.Record(ctx, consumer, testEntry(fmt.Sprintf("w%d-%02d", w, i), env)); err != nil {
					writeErrs <- err
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { writing.Wait(); close(done) }()

	type result struct {
		seen []Entry
		err  error
	}
	follow := func(f FollowFilter) <-chan result {
		out := make(chan result, 1)
		go func() {
			var r result
			for {
				finished := false
				select {
				case <-done:
					finished = true // every recorder has returned: one last drain sees all
				default:
				}
				f.Limit = 1 + rand.N(7)
				page, err := s.Follow(ctx, f)
				if err != nil {
					r.err = err
					break
				}
				r.seen = append(r.seen, page.Entries...)
				f.After = page.Next
				if finished && len(page.Entries) < f.Limit {
					break
				}
				time.Sleep(rand.N(2 * time.Millisecond))
			}
			out <- r
		}()
		return out
	}
	all, prod := follow(FollowFilter{}), follow(FollowFilter{Environment: "prod"})

	<-done
	close(writeErrs)
	for err := range writeErrs {
		t.Fatalf("record: %v", err)
	}
	for _, c := range []struct {
		name string
		got  result
		want []string
	}{{"unfiltered follower", <-all, wantAll}, {"follower of prod", <-prod, wantProd}} {
		if c.got.err != nil {
			t.Errorf("%s: follow: %v", c.name, c.got.err)
			continue
		}
		checkFollowed(t, c.name, c.got.seen, c.want)
	}
}

// checkFollowed reports entries seen twice or never, and seq going backwards.
func checkFollowed(t *testing.T, name string, seen []Entry, want []string) {
	t.Helper()
	count := make(map[string]int, len(seen))
	for i, e := range seen {
		count[e.EventID]++
		if i > 0 && e.Seq <= seen[i-1].Seq {
			t.Errorf("%s: seq went from %d (%s) to %d (%s): not in recording order",
				name, seen[i-1].Seq, seen[i-1].EventID, e.Seq, e.EventID)
		}
	}
	var missed, twice []string
	for _, id := range want {
		switch count[id] {
		case 0:
			missed = append(missed, id)
		case 1:
		default:
			twice = append(twice, id)
		}
		delete(count, id)
	}
	if len(missed) > 0 {
		t.Errorf("%s missed %d of %d entries: %v", name, len(missed), len(want), missed)
	}
	if len(twice) > 0 {
		t.Errorf("%s saw %d entries more than once: %v", name, len(twice), twice)
	}
	if len(count) > 0 {
		t.Errorf("%s saw entries it does not select: %v", name, count)
	}
}
