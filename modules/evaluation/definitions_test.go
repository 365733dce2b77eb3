package evaluation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/flageval"
	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
	"github.com/switchyardhq/switchyard/contracts/targeting/testbed"
	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/storage"
)

func snapshotClient(t *testing.T, url string, opts ...ofrephttp.Option) *ofrephttp.Client {
	t.Helper()
	c, err := ofrephttp.New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// definition decodes a flagd definition written in a test.
func definition(t *testing.T, raw string) flagsv1.Definition {
	t.Helper()
	var def flagsv1.Definition
	if err := json.Unmarshal([]byte(raw), &def); err != nil {
		t.Fatalf("definition %s: %v", raw, err)
	}
	return def
}

func TestDefinitionsSnapshot(t *testing.T) {
	dialects(t, func(t *testing.T, d storage.Dialect) {
		h := startedOn(t, d)
		const (
			targeted = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"$ref":"isStaff"},"on",null]},"metadata":{"owner":"growth"}}`
			disabled = `{"state":"DISABLED","variants":{"a":"x","b":{"deep":[1,2.5,null]}},"defaultVariant":"b"}`
			codeDflt = `{"state":"ENABLED","variants":{"n":42},"defaultVariant":null}`
			oldDef   = `{"state":"ENABLED","variants":{"v":1},"defaultVariant":"v"}`
			newDef   = `{"state":"ENABLED","variants":{"v":2},"defaultVariant":"v"}`
		)
		evaluators := map[string]json.RawMessage{"isStaff": json.RawMessage(`{"ends_with":[{"var":"email"},"@acme.com"]}`)}
		setMetadata := map[string]any{"team": "platform", "tier": 1.0}
		withSet := func(ev flagsv1.FlagChanged) flagsv1.FlagChanged {
			ev.FlagSetMetadata = setMetadata
			return ev
		}
		t1 := withSet(created(t, "d1", "targeted", 1, targeted))
		t1.Evaluators = evaluators
		h.mustDeliver(
			t1,
			withSet(created(t, "d2", "disabled", 1, disabled)),
			withSet(created(t, "d3", "code-default", 1, codeDflt)),
			withSet(created(t, "d4", "updated", 1, oldDef)),
			withSet(event(t, "d5", flagsv1.TypeFlagUpdated, env, "updated", 2, newDef)),
			withSet(created(t, "d6", "gone", 1, boolFlag)),
			archived(t, "d7", "gone", 2),
			withSet(event(t, "s1", flagsv1.TypeFlagCreated, "staging", "elsewhere", 1, boolFlag)),
		)
		srv := served(t, h)
		c := snapshotClient(t, srv.URL)

		res, err := c.FetchSnapshot(context.Background(), "")
		if err != nil {
			t.Fatalf("FetchSnapshot: %v", err)
		}
		want := snapshotv1.Snapshot{
			Schema: snapshotv1.SchemaURL, Environment: env, Revision: h.revision(env),
			Flags: map[string]flagsv1.Definition{
				"targeted": definition(t, targeted), "disabled": definition(t, disabled),
				"code-default": definition(t, codeDflt), "updated": definition(t, newDef),
			},
			Evaluators: evaluators,
			Metadata:   setMetadata,
		}
		if got := res.Snapshot; !equalJSON(t, got, want) {
			t.Fatalf("snapshot =\n  %s\nwant\n  %s", mustJSON(t, got), mustJSON(t, want))
		}
		if !res.LastModified.Equal(fixedNow) {
			t.Fatalf("Last-Modified = %v, want %v", res.LastModified, fixedNow)
		}

		// The stream announces the same ETag; a conditional fetch under it is a 304.
		events, _ := watchEvents(t, srv.URL)
		if ev := receive(t, events); ev.ETag != res.ETag {
			t.Fatalf("stream etag %s, snapshot ETag %s: they must be equal", ev.ETag, res.ETag)
		}
		again, err := c.FetchSnapshot(context.Background(), res.ETag)
		if err != nil || !again.NotModified || again.ETag != res.ETag {
			t.Fatalf("conditional fetch = %+v, %v; want 304 under %s", again, err, res.ETag)
		}

		// A change: a new ETag, announced by the stream, and a 200 for the old one.
		h.mustDeliver(archived(t, "d8", "disabled", 2))
		ev := receive(t, events)
		changed, err := c.FetchSnapshot(context.Background(), res.ETag)
		if err != nil || changed.NotModified || changed.ETag == res.ETag || changed.ETag != ev.ETag {
			t.Fatalf("after a change: %+v, %v; want a 200 under the etag the stream announced (%s)", changed, err, ev.ETag)
		}
		if _, still := changed.Snapshot.Flags["disabled"]; still || len(changed.Snapshot.Flags) != 3 {
			t.Fatalf("archived flag still in the snapshot: %v", changed.Snapshot.Flags)
		}

		// A restarted module serves the same bytes under the same ETag.
		restarted := h.reopen()
		restarted.start()
		rsrv := served(t, restarted)
		reloaded, err := snapshotClient(t, rsrv.URL).FetchSnapshot(context.Background(), "")
		if err != nil || reloaded.ETag != changed.ETag || string(reloaded.Body) != string(changed.Body) ||
			!reloaded.LastModified.Equal(changed.LastModified) {
			t.Fatalf("after a restart: ETag %s (want %s), Last-Modified %v (want %v), body\n  %s\nwant\n  %s",
				reloaded.ETag, changed.ETag, reloaded.LastModified, changed.LastModified, reloaded.Body, changed.Body)
		}
	})
}

func TestDefinitionsSnapshotConditionalHeaders(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	srv := served(t, h)
	etag := snapshotETag(t, srv.URL)
	tests := []struct {
		ifNoneMatch string
		status      int
	}{
		{etag, http.StatusNotModified},
		{"W/" + etag, http.StatusNotModified},
		{`"other", ` + etag, http.StatusNotModified},
		{"*", http.StatusNotModified},
		{`"c0-00000000"`, http.StatusOK},
		{strings.Trim(etag, `"`), http.StatusOK}, // unquoted is not the same entity tag
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+snapshotv1.Path, nil)
		req.Header.Set("If-None-Match", tt.ifNoneMatch)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("ETag") != etag || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("If-None-Match %s: %d, ETag %s, Cache-Control %q; want %d, %s, no-cache", tt.ifNoneMatch,
				resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"), tt.status, etag)
		}
		if tt.status == http.StatusNotModified && len(body) != 0 {
			t.Errorf("304 with a body: %s", body)
		}
	}
}

func TestDefinitionsSnapshotBeforeLoad(t *testing.T) {
	h := newHarness(t)
	srv := served(t, h)
	_, err := snapshotClient(t, srv.URL).FetchSnapshot(context.Background(), "")
	var he *ofrephttp.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable || he.RetryAfter != time.Second {
		t.Fatalf("before Start: %v; want a 503 with Retry-After 1", err)
	}
}

func TestDefinitionsSnapshotAuth(t *testing.T) {
	auth := httpx.RequireBearer([]httpx.Token{{Name: "sdk", Secret: "sdk-secret-0123456789"}})
	h := startedOn(t, storage.SQLite, func(d *evaluation.Deps) { d.SnapshotAuth = auth })
	srv := served(t, h)
	_, err := snapshotClient(t, srv.URL).FetchSnapshot(context.Background(), "")
	var he *ofrephttp.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Fatalf("without a token: %v; want 401", err)
	}
	if _, err := snapshotClient(t, srv.URL, ofrephttp.WithHeader("Authorization", "Bearer sdk-secret-0123456789")).
		FetchSnapshot(context.Background(), ""); err != nil {
		t.Fatalf("with the token: %v", err)
	}
	// OFREP itself stays open.
	if rec := h.bulk(``); rec.Code != http.StatusOK {
		t.Fatalf("bulk evaluation behind the snapshot's auth: %d", rec.Code)
	}
}

// TestDefinitionsSnapshotTakesTheNewestCopies projects the first half of a change of a
// shared rule and of the flag-set metadata: each flag carries the copies of its own last
// event, and the snapshot takes those of the most recently changed flag.
func TestDefinitionsSnapshotTakesTheNewestCopies(t *testing.T) {
	var mu sync.Mutex
	clock := fixedNow
	tick := func(d *evaluation.Deps) {
		d.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Second)
			return clock
		}
	}
	h := startedOn(t, storage.SQLite, tick)
	def := `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"$ref":"rule"},"on",null]}}`
	flag := func(id, key string, version int64, rule string, team string) flagsv1.FlagChanged {
		typ := flagsv1.TypeFlagCreated
		if version > 1 {
			typ = flagsv1.TypeFlagUpdated
		}
		ev := event(t, id, typ, env, key, version, def)
		ev.Evaluators = map[string]json.RawMessage{"rule": json.RawMessage(rule)}
		ev.FlagSetMetadata = map[string]any{"team": team}
		return ev
	}
	h.mustDeliver(
		flag("a1", "a", 1, `{"==":[1,1]}`, "old"),
		flag("b1", "b", 1, `{"==":[1,1]}`, "old"),
		flag("b2", "b", 2, `{"==":[2,2]}`, "new"), // a's update is still to come
	)
	srv := served(t, h)
	res, err := snapshotClient(t, srv.URL).FetchSnapshot(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Snapshot.Evaluators["rule"]); got != `{"==":[2,2]}` || res.Snapshot.Metadata["team"] != "new" {
		t.Fatalf("snapshot took rule %s and team %v, want the newest: {\"==\":[2,2]} and new", got, res.Snapshot.Metadata["team"])
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	var x, y any
	_ = json.Unmarshal(mustJSON(t, a), &x)
	_ = json.Unmarshal(mustJSON(t, b), &y)
	return reflect.DeepEqual(x, y)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLocalEvaluationFromSnapshotMatchesServer is what an SDK in local-evaluation mode
// does: it fetches the definitions snapshot, compiles each flag with contracts/flageval,
// and evaluates in-process. Every flagd-testbed case (plus flag-set metadata) must get
// exactly the server's OFREP answer: value, variant, reason, error code and metadata.
func TestLocalEvaluationFromSnapshotMatchesServer(t *testing.T) {
	tb := testbed.Load(t)
	h := started(t)
	version := int64(0)
	for key, f := range tb.Flags {
		version++
		ev := created(t, fmt.Sprintf("tb-%d", version), key, 1, `{"state":"ENABLED","variants":{"x":true},"metadata":{"flagOwn":"yes","team":"flag"}}`)
		ev.After.Variants, ev.After.DefaultVariant, ev.After.Targeting = f.Variants, f.DefaultVariant, f.Targeting
		ev.Evaluators = tb.Evaluators
		ev.FlagSetMetadata = map[string]any{"team": "set", "tier": 2.0}
		h.mustDeliver(ev)
	}
	srv := served(t, h)
	res, err := snapshotClient(t, srv.URL).FetchSnapshot(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	snap := res.Snapshot
	local := map[string]*flageval.Flag{}
	for key, def := range snap.Flags {
		local[key] = flageval.Compile(key, def, snap.Evaluators)
	}
	if len(local) != len(tb.Flags) {
		t.Fatalf("snapshot has %d flags, the testbed %d", len(local), len(tb.Flags))
	}
	for i, tc := range tb.Cases {
		body, _ := json.Marshal(map[string]any{"context": tc.Context})
		rec := h.evaluate(url.PathEscape(tc.Flag), string(body))
		var server ofrepv1.Evaluation
		if err := json.Unmarshal(rec.Body.Bytes(), &server); err != nil {
			t.Fatalf("case %d: server answered %d %s", i, rec.Code, rec.Body)
		}
		// The server reads the context as the JSON it received; so does the SDK's caller
		// when it decodes one: round-trip the case's context the same way.
		var evalCtx map[string]any
		_ = json.Unmarshal(mustJSON(t, tc.Context), &evalCtx)
		got := local[tc.Flag].Evaluate(evalCtx, fixedNow.Unix())
		variant := ""
		if got.Variant != nil {
			variant = *got.Variant
		}
		if got.ErrorCode != server.ErrorCode || got.ErrorDetails != server.ErrorDetails || got.Reason != server.Reason ||
			variant != server.Variant || string(got.Value) != string(server.Value) {
			t.Errorf("case %d (%s): local {%s %s %s %s %q}, server %s", i, tc.Flag, got.Reason, variant, got.Value, got.ErrorCode, got.ErrorDetails, rec.Body)
			continue
		}
		if server.ErrorCode == "" && !reflect.DeepEqual(snap.MergedMetadata(tc.Flag), server.Metadata) {
			t.Errorf("case %d (%s): local metadata %v, server %v", i, tc.Flag, snap.MergedMetadata(tc.Flag), server.Metadata)
		}
	}
}
