package evaluation_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/storage"
)

const (
	v1Def = `{"state":"ENABLED","variants":{"a":"one","b":"two"},"defaultVariant":"a"}`
	v2Def = `{"state":"ENABLED","variants":{"a":"one","b":"two"},"defaultVariant":"b"}`
	v1Out = `{"key":"f","reason":"STATIC","variant":"a","value":"one","metadata":{}}`
	v2Out = `{"key":"f","reason":"STATIC","variant":"b","value":"two","metadata":{}}`
)

func TestHandlerIdentity(t *testing.T) {
	h := newHarness(t)
	if h.handler.Name != flagsv1.ConsumerEvaluationProjection || h.handler.Topic != flagsv1.Topic || h.handler.Handle == nil {
		t.Fatalf("handler = %q on %q; want %q on %q", h.handler.Name, h.handler.Topic, flagsv1.ConsumerEvaluationProjection, flagsv1.Topic)
	}
}

func TestDuplicateEventChangesNothing(t *testing.T) { dialects(t, testDuplicateEventChangesNothing) }

func testDuplicateEventChangesNothing(t *testing.T, d storage.Dialect) {
	h := startedOn(t, d)
	h.mustDeliver(created(t, "e1", "f", 1, v1Def))
	etag := h.bulk(``).Header().Get("ETag")

	// The same event id again, even carrying another definition, is acknowledged and ignored.
	dup := event(t, "e1", flagsv1.TypeFlagUpdated, env, "f", 2, v2Def)
	h.mustDeliver(dup, dup)
	if got := h.revision(env); got != 1 {
		t.Fatalf("revision = %d after duplicates, want 1", got)
	}
	assertResponse(t, h.evaluate("f", ``), http.StatusOK, v1Out)
	if rec := h.bulk(``, "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Fatalf("ETag changed after a duplicate: status %d", rec.Code)
	}
}

func TestOlderVersionIsIgnored(t *testing.T) { dialects(t, testOlderVersionIsIgnored) }

func testOlderVersionIsIgnored(t *testing.T, d storage.Dialect) {
	tests := []struct {
		name   string
		events func(t *testing.T) []flagsv1.FlagChanged
		want   string
		rev    int64
	}{
		{"older update after newer", func(t *testing.T) []flagsv1.FlagChanged {
			return []flagsv1.FlagChanged{
				event(t, "e2", flagsv1.TypeFlagUpdated, env, "f", 2, v2Def),
				created(t, "e1", "f", 1, v1Def),
			}
		}, v2Out, 1},
		{"same version again under another id", func(t *testing.T) []flagsv1.FlagChanged {
			return []flagsv1.FlagChanged{
				created(t, "e1", "f", 1, v1Def),
				event(t, "e1b", flagsv1.TypeFlagUpdated, env, "f", 1, v2Def),
			}
		}, v1Out, 1},
		{"update older than an archive", func(t *testing.T) []flagsv1.FlagChanged {
			return []flagsv1.FlagChanged{
				created(t, "e1", "f", 1, v1Def),
				archived(t, "e3", "f", 3),
				event(t, "e2", flagsv1.TypeFlagUpdated, env, "f", 2, v2Def),
			}
		}, `{"key":"f","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag 'f' not found in environment 'development'"}`, 2},
		{"archive arriving before its creation", func(t *testing.T) []flagsv1.FlagChanged {
			return []flagsv1.FlagChanged{
				archived(t, "e2", "f", 2),
				created(t, "e1", "f", 1, v1Def),
			}
		}, `{"key":"f","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag 'f' not found in environment 'development'"}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startedOn(t, d)
			h.mustDeliver(tt.events(t)...)
			rec := h.evaluate("f", ``)
			if !strings.Contains(withoutEventStreams(rec.Body.String()), tt.want) {
				t.Fatalf("body %s, want %s", rec.Body.String(), tt.want)
			}
			if got := h.revision(env); got != tt.rev {
				t.Fatalf("revision = %d, want %d", got, tt.rev)
			}
			var claims int
			if err := h.db.Get(&claims, h.db.Rebind(`SELECT COUNT(*) FROM inbox WHERE handler = ?`), flagsv1.ConsumerEvaluationProjection); err != nil {
				t.Fatal(err)
			}
			if want := len(tt.events(t)); claims != want {
				t.Fatalf("%d inbox claims, want %d (ignored events are claimed too)", claims, want)
			}
		})
	}
}

func TestUndeliverableEventsFail(t *testing.T) { dialects(t, testUndeliverableEventsFail) }

func testUndeliverableEventsFail(t *testing.T, d storage.Dialect) {
	h := startedOn(t, d)
	tests := []struct {
		name string
		msg  *message.Message
	}{
		{"not JSON", message.NewMessage("m1", []byte(`{"eventId":`))},
		{"wrong shape", message.NewMessage("m2", []byte(`{"eventId":"e1","version":"two"}`))},
		{"no definition after an update", eventMessage(t, event(t, "e3", flagsv1.TypeFlagUpdated, env, "f", 1, ""))},
		{"no event id", eventMessage(t, created(t, "", "f", 1, v1Def))},
		{"no flag key", eventMessage(t, created(t, "e4", "", 1, v1Def))},
		{"unknown event type", eventMessage(t, event(t, "e5", "flags.v1.flag_renamed", env, "f", 1, v1Def))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.handler.Handle(tt.msg); err == nil {
				t.Fatal("Handle() = nil; an event that cannot be projected must stay in the outbox")
			}
		})
	}
	var claims int
	if err := h.db.Get(&claims, `SELECT COUNT(*) FROM inbox`); err != nil {
		t.Fatal(err)
	}
	if claims != 0 || h.revision(env) != 0 {
		t.Fatalf("failed events left %d claims and revision %d", claims, h.revision(env))
	}
}

func TestRestartRebuildsIdenticalResults(t *testing.T) {
	dialects(t, testRestartRebuildsIdenticalResults)
}

func testRestartRebuildsIdenticalResults(t *testing.T, d storage.Dialect) {
	h := startedOn(t, d)
	h.mustDeliver(
		created(t, "e1", "f", 1, v1Def),
		event(t, "e2", flagsv1.TypeFlagUpdated, env, "f", 2, v2Def),
		created(t, "e3", "num", 1, `{"state":"ENABLED","variants":{"i":10,"x":2.50},"defaultVariant":"x","metadata":{"n":1.5}}`),
		created(t, "e4", "obj", 1, `{"state":"ENABLED","variants":{"o":{"k":[1,{"z":null}]}},"defaultVariant":"o","targeting":{"in":["a",["a"]]}}`),
		created(t, "e5", "off", 1, `{"state":"DISABLED","variants":{"o":true},"defaultVariant":"o"}`),
		created(t, "e6", "bye", 1, boolFlag),
		archived(t, "e7", "bye", 2),
		event(t, "e8", flagsv1.TypeFlagCreated, "production", "f", 1, v1Def),
	)
	keys := []string{"f", "num", "obj", "off", "bye"}
	const ctx = `{"context":{"targetingKey":"u"}}`
	type snapshot struct {
		single []string
		bulk   string
		etag   string
	}
	capture := func(h *harness) snapshot {
		var s snapshot
		for _, k := range keys {
			rec := h.evaluate(k, ctx)
			s.single = append(s.single, fmt.Sprintf("%d %s", rec.Code, rec.Body.String()))
		}
		rec := h.bulk(ctx)
		s.bulk, s.etag = rec.Body.String(), rec.Header().Get("ETag")
		return s
	}
	before := capture(h)

	restarted := h.reopen()
	restarted.start()
	after := capture(restarted)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("results differ after restart:\nbefore %v\nafter  %v", before, after)
	}
	if rec := restarted.bulk(ctx, "If-None-Match", before.etag); rec.Code != http.StatusNotModified {
		t.Fatalf("ETag from before the restart: status %d, want 304", rec.Code)
	}
	// The restarted module keeps projecting from where the store is.
	restarted.mustDeliver(event(t, "e9", flagsv1.TypeFlagUpdated, env, "f", 3, v1Def))
	assertResponse(t, restarted.evaluate("f", ``), http.StatusOK, v1Out)
	if got := restarted.revision(env); got != 8 {
		t.Fatalf("revision = %d, want 8", got)
	}
}

func TestConcurrentEventsAndReads(t *testing.T) { dialects(t, testConcurrentEventsAndReads) }

func testConcurrentEventsAndReads(t *testing.T, d storage.Dialect) {
	h := startedOn(t, d)
	const flags = 20
	var wg sync.WaitGroup
	for i := range flags {
		wg.Go(func() {
			key := fmt.Sprintf("flag-%02d", i)
			for v := int64(1); v <= 3; v++ {
				if err := h.deliver(event(t, fmt.Sprintf("%s-v%d", key, v), flagsv1.TypeFlagUpdated, env, key, v, v2Def)); err != nil {
					t.Errorf("deliver %s v%d: %v", key, v, err)
				}
			}
		})
		wg.Go(func() {
			for range 10 {
				if rec := h.bulk(``); rec.Code != http.StatusOK {
					t.Errorf("bulk status %d", rec.Code)
				}
			}
		})
	}
	wg.Wait()
	if got := h.revision(env); got != 3*flags {
		t.Fatalf("revision = %d, want %d", got, 3*flags)
	}
	body := h.bulk(``).Body.String()
	if n := strings.Count(body, `"reason":"STATIC"`); n != flags {
		t.Fatalf("bulk has %d flags, want %d: %s", n, flags, body)
	}
	// What concurrent appliers published in memory is what the store holds.
	restarted := h.reopen()
	restarted.start()
	if again := restarted.bulk(``).Body.String(); again != body {
		t.Fatalf("memory and store disagree:\nmemory %s\nstore  %s", body, again)
	}
}

func TestStartWhileEventsArrive(t *testing.T) { dialects(t, testStartWhileEventsArrive) }

func testStartWhileEventsArrive(t *testing.T, d storage.Dialect) {
	for round := range 10 {
		h := newHarnessOn(t, d)
		const events = 40
		started, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for i := range events {
				if i == events/4 {
					close(started) // the load now overlaps the remaining events
				}
				key := fmt.Sprintf("flag-%02d", i)
				if err := h.deliver(created(t, fmt.Sprintf("r%d-%s", round, key), key, 1, boolFlag)); err != nil {
					t.Errorf("deliver %s: %v", key, err)
				}
			}
		}()
		<-started
		h.start()
		<-done
		body := h.bulk(``).Body.String()
		if n := strings.Count(body, `"key":`); n != events {
			t.Fatalf("round %d: %d flags served after a start racing %d events; an event was lost between load and apply", round, n, events)
		}
	}
}

func TestConcurrentProcessesKeepTheNewestVersion(t *testing.T) {
	dialects(t, testConcurrentProcessesKeepTheNewestVersion)
}

// Two modules over one store (two replicas on PostgreSQL) apply interleaved versions of
// one flag at once: whatever order the transactions run in, the store ends at the newest.
func testConcurrentProcessesKeepTheNewestVersion(t *testing.T, d storage.Dialect) {
	first := startedOn(t, d)
	second := first.reopen()
	second.start()
	const versions = 40
	def := func(v int64) string {
		return fmt.Sprintf(`{"state":"ENABLED","variants":{"v":%d},"defaultVariant":"v"}`, v)
	}
	var wg sync.WaitGroup
	for i, h := range []*harness{first, second} {
		wg.Go(func() {
			for v := int64(i + 1); v <= versions; v += 2 {
				if err := h.deliver(event(t, fmt.Sprintf("e%d", v), flagsv1.TypeFlagUpdated, env, "f", v, def(v))); err != nil {
					t.Errorf("deliver v%d: %v", v, err)
				}
			}
		})
	}
	wg.Wait()
	restarted := first.reopen()
	restarted.start()
	want := fmt.Sprintf(`{"key":"f","reason":"STATIC","variant":"v","value":%d,"metadata":{}}`, versions)
	assertResponse(t, restarted.evaluate("f", ``), http.StatusOK, want)
}
