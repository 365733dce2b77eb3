package audit_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/storage"
)

const changesPath = "/api/v1/audit/changes"

type followBody struct {
	Entries []map[string]any `json:"entries"`
	Next    *string          `json:"next"`
}

// follow fetches one page of GET /api/v1/audit/changes and fails the test unless it is a
// 200 JSON response with entries and a next cursor.
func (f *fixture) follow(t *testing.T, query string) followBody {
	t.Helper()
	resp, body := f.getPath(t, changesPath, query, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s?%s: status %d, body %s", changesPath, query, resp.StatusCode, body)
	}
	if ct := resp.Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		t.Fatalf("GET %s?%s: Content-Type %q, want application/json", changesPath, query, ct)
	}
	if cc := resp.Header.Get(echo.HeaderCacheControl); cc != "no-store" {
		t.Fatalf("GET %s?%s: Cache-Control %q, want no-store", changesPath, query, cc)
	}
	var fb followBody
	if err := json.Unmarshal(body, &fb); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if fb.Entries == nil || fb.Next == nil || *fb.Next == "" {
		t.Fatalf("GET %s?%s: entries not an array or next missing: %s", changesPath, query, body)
	}
	return fb
}

// followToEnd follows from the first request (query, which may carry start) until a page
// comes back empty, and returns the non-empty pages and the cursor to poll with next. The
// empty page must give back the cursor it was sent.
func (f *fixture) followToEnd(t *testing.T, query, after string) (pages [][]string, next string) {
	t.Helper()
	filters := query
	for i := 0; ; i++ {
		q := query
		if after != "" {
			q = join(filters, "after="+url.QueryEscape(after))
		}
		page := f.follow(t, q)
		if len(page.Entries) == 0 {
			if after != "" && *page.Next != after {
				t.Fatalf("GET ?%s: empty page moved the cursor from %s to %s", q, after, *page.Next)
			}
			return pages, *page.Next
		}
		pages = append(pages, eventIDs(page.Entries))
		after = *page.Next
		if i > 20 {
			t.Fatalf("GET ?%s: still not at the end after %d pages: %v", q, i, pages)
		}
		filters = withoutStart(query)
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "&" + b
}

func withoutStart(query string) string {
	var kept []string
	for p := range strings.SplitSeq(query, "&") {
		if p != "" && !strings.HasPrefix(p, "start=") {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "&")
}

func followCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"follow":1,"seq":` + jsonInt(seq) + `}`))
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestFollowPages(t *testing.T) { dialects(t, testFollowPages) }

func testFollowPages(t *testing.T, d storage.Dialect) {
	f := newFixtureOn(t, d)
	// Recorded in this order, which is not the order in which they occurred: following
	// gives the recording order, the list the occurrence order.
	for _, ev := range []flagsv1.FlagChanged{
		event("e3", flagsv1.TypeFlagCreated, "staging", "checkout", "alice", base.Add(2*time.Minute)),
		event("e1", flagsv1.TypeFlagCreated, "prod", "checkout", "alice", base),
		event("e5", flagsv1.TypeFlagUpdated, "prod", "checkout", "bob", base.Add(4*time.Minute)),
		event("e2", flagsv1.TypeFlagCreated, "prod", "search", "bob", base.Add(time.Minute)),
		event("e4", flagsv1.TypeFlagCreated, "staging", "search", "carol", base.Add(3*time.Minute)),
	} {
		f.deliver(t, ev)
	}

	tests := []struct {
		name      string
		query     string
		wantPages [][]string
	}{
		{"recording order, default limit", "", [][]string{{"e3", "e1", "e5", "e2", "e4"}}},
		{"pages of 2", "limit=2", [][]string{{"e3", "e1"}, {"e5", "e2"}, {"e4"}}},
		{"last page exactly full", "limit=5", [][]string{{"e3", "e1", "e5", "e2", "e4"}}},
		{"one per page", "limit=1", [][]string{{"e3"}, {"e1"}, {"e5"}, {"e2"}, {"e4"}}},
		{"start=beginning is the default", "start=beginning&limit=3", [][]string{{"e3", "e1", "e5"}, {"e2", "e4"}}},
		{"environment", "environment=prod&limit=2", [][]string{{"e1", "e5"}, {"e2"}}},
		{"flag", "flag=search", [][]string{{"e2", "e4"}}},
		{"actor", "actor=alice&limit=1", [][]string{{"e3"}, {"e1"}}},
		{"environment, flag and actor", "environment=prod&flag=checkout&actor=bob", [][]string{{"e5"}}},
		{"nothing matches", "environment=PROD", nil},
	}
	var head string // where every follower ends: the newest entry, filters or not
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, next := f.followToEnd(t, tt.query, "")
			if !reflect.DeepEqual(pages, tt.wantPages) {
				t.Fatalf("pages = %v, want %v", pages, tt.wantPages)
			}
			if head == "" {
				head = next
			}
			if next != head {
				t.Fatalf("caught-up cursor = %s, want the head %s: a filtered follower must move past what it skips", next, head)
			}
		})
	}

	t.Run("same entries as the list", func(t *testing.T) {
		listed := map[string]map[string]any{}
		for _, e := range f.list(t, "").Entries {
			listed[e["eventId"].(string)] = e
		}
		for _, e := range f.follow(t, "").Entries {
			if id := e["eventId"].(string); !reflect.DeepEqual(e, listed[id]) {
				t.Errorf("followed entry %s =\n%v\nlisted as\n%v", id, e, listed[id])
			}
		}
	})

	t.Run("new entries once, after catching up", func(t *testing.T) {
		_, all := f.followToEnd(t, "", "")
		_, staging := f.followToEnd(t, "environment=staging", "")
		_, now := f.followToEnd(t, "start=now", "")
		if now != all {
			t.Fatalf("start=now cursor = %s, want the head %s", now, all)
		}
		// Occurred long ago, recorded now: following sees it; the list puts it last.
		f.deliver(t, event("late", flagsv1.TypeFlagUpdated, "prod", "checkout", "dave", base.Add(-time.Hour)))
		f.deliver(t, event("e6", flagsv1.TypeFlagUpdated, "staging", "checkout", "dave", base.Add(5*time.Minute)))
		for _, c := range []struct {
			name, query, after string
			want               [][]string
		}{
			{"unfiltered", "limit=1", all, [][]string{{"late"}, {"e6"}}},
			{"from start=now", "", now, [][]string{{"late", "e6"}}},
			{"staging", "environment=staging", staging, [][]string{{"e6"}}},
		} {
			if pages, _ := f.followToEnd(t, c.query, c.after); !reflect.DeepEqual(pages, c.want) {
				t.Errorf("%s follower: pages = %v, want %v", c.name, pages, c.want)
			}
		}
		// A redelivery is no new entry.
		_, head := f.followToEnd(t, "", all)
		f.deliver(t, event("e6", flagsv1.TypeFlagUpdated, "staging", "checkout", "dave", base.Add(5*time.Minute)))
		if pages, _ := f.followToEnd(t, "", head); pages != nil {
			t.Fatalf("after a redelivery: pages = %v, want none", pages)
		}
	})
}

func TestFollowEmptyTimeline(t *testing.T) { dialects(t, testFollowEmptyTimeline) }

func testFollowEmptyTimeline(t *testing.T, d storage.Dialect) {
	f := newFixtureOn(t, d)
	for _, q := range []string{"", "start=beginning", "start=now", "environment=prod", "after=" + followCursor(0)} {
		page := f.follow(t, q)
		if len(page.Entries) != 0 || *page.Next != followCursor(0) {
			t.Fatalf("GET ?%s on an empty timeline = %d entries, next %s; want none, next %s",
				q, len(page.Entries), *page.Next, followCursor(0))
		}
	}
	f.deliver(t, event("first", flagsv1.TypeFlagCreated, "prod", "f", "alice", base))
	if pages, _ := f.followToEnd(t, "", followCursor(0)); !reflect.DeepEqual(pages, [][]string{{"first"}}) {
		t.Fatalf("pages = %v, want [[first]]", pages)
	}
}

func TestFollowRejectsBadQuery(t *testing.T) {
	f := newFixture(t)
	for i := range 3 {
		f.deliver(t, event(string(rune('a'+i)), flagsv1.TypeFlagUpdated, "prod", "checkout", "alice", base.Add(time.Duration(i)*time.Minute)))
	}
	good := *f.follow(t, "limit=1").Next
	listCursor := f.list(t, "limit=1").NextCursor
	if listCursor == nil {
		t.Fatal("no nextCursor on a list page of 1 out of 3")
	}
	raw := func(s string) string { return url.QueryEscape(base64.RawURLEncoding.EncodeToString([]byte(s))) }

	tests := []struct {
		name      string
		path      string
		query     string
		wantField string
	}{
		{"misspelt filter", changesPath, "envirnoment=prod", "envirnoment"},
		{"since is not a follow parameter", changesPath, "since=" + ts(base), "since"},
		{"until is not a follow parameter", changesPath, "until=" + ts(base), "until"},
		{"cursor is the list's parameter", changesPath, "cursor=" + url.QueryEscape(good), "cursor"},
		{"repeated filter", changesPath, "flag=a&flag=b", "flag"},
		{"repeated after", changesPath, "after=" + good + "&after=" + good, "after"},
		{"empty environment", changesPath, "environment=", "environment"},
		{"empty flag", changesPath, "flag=", "flag"},
		{"empty actor", changesPath, "actor=", "actor"},
		{"limit 0", changesPath, "limit=0", "limit"},
		{"limit 501", changesPath, "limit=501", "limit"},
		{"limit not a number", changesPath, "limit=ten", "limit"},
		{"limit empty", changesPath, "limit=", "limit"},
		{"start unknown", changesPath, "start=latest", "start"},
		{"start empty", changesPath, "start=", "start"},
		{"start and after", changesPath, "start=now&after=" + good, "start"},
		{"after not base64", changesPath, "after=%21%21%21", "after"},
		{"after not json", changesPath, "after=" + raw("hello"), "after"},
		{"after truncated", changesPath, "after=" + url.QueryEscape(good[:len(good)-3]), "after"},
		{"after padded", changesPath, "after=" + url.QueryEscape(good+"=="), "after"},
		{"after a list cursor", changesPath, "after=" + url.QueryEscape(*listCursor), "after"},
		{"after of another version", changesPath, "after=" + raw(`{"follow":2,"seq":1}`), "after"},
		{"after with a negative seq", changesPath, "after=" + raw(`{"follow":1,"seq":-1}`), "after"},
		{"after with an extra field", changesPath, "after=" + raw(`{"follow":1,"seq":1,"x":1}`), "after"},
		{"after not in canonical form", changesPath, "after=" + raw(`{"seq":1,"follow":1}`), "after"},
		{"after ahead of the timeline", changesPath, "after=" + followCursor(4), "after"},
		{"malformed query string", changesPath, "flag=%zz", ""},
		{"the list refuses a follow cursor", "/api/v1/audit", "cursor=" + url.QueryEscape(good), "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.getPath(t, tt.path, tt.query, "")
			expectBadRequest(t, "GET "+tt.path+"?"+tt.query, resp, body, tt.wantField)
		})
	}

	// The issued cursor, the head itself, and an empty after (no cursor) are accepted.
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"after=" + url.QueryEscape(good), []string{"b", "c"}},
		{"after=" + followCursor(3), []string{}},
		{"after=", []string{"a", "b", "c"}},
		{"after=&start=now", []string{}},
	} {
		if got := eventIDs(f.follow(t, c.query).Entries); !reflect.DeepEqual(got, c.want) {
			t.Fatalf("GET ?%s = %v, want %v", c.query, got, c.want)
		}
	}
}

func TestFollowRequiresAdminToken(t *testing.T) {
	f := newFixture(t)
	f.deliver(t, event("e1", flagsv1.TypeFlagCreated, "prod", "f", "alice", base))
	for _, auth := range []string{"-", "Bearer wrong"} {
		for _, q := range []string{"", "envirnoment=x"} {
			resp, body := f.getPath(t, changesPath, q, auth)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("auth %q, query %q: status %d, want 401; body %s", auth, q, resp.StatusCode, body)
			}
			if strings.Contains(string(body), "e1") {
				t.Fatalf("401 body leaks the timeline: %s", body)
			}
		}
	}
}
