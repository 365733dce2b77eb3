package audit_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/storage"
)

var base = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func ts(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339Nano)) }

func TestListFilters(t *testing.T) { dialects(t, testListFilters) }

func testListFilters(t *testing.T, d storage.Dialect) {
	f := newFixtureOn(t, d)
	// Delivered out of time order: the timeline orders by when things happened.
	for _, ev := range []flagsv1.FlagChanged{
		event("e3", flagsv1.TypeFlagCreated, "staging", "checkout", "alice", base.Add(2*time.Minute)),
		event("e1", flagsv1.TypeFlagCreated, "prod", "checkout", "alice", base),
		event("e5", flagsv1.TypeFlagUpdated, "prod", "checkout", "bob", base.Add(4*time.Minute)),
		event("e2", flagsv1.TypeFlagCreated, "prod", "search", "bob", base.Add(time.Minute)),
		event("e4", flagsv1.TypeFlagCreated, "staging", "search", "carol", base.Add(3*time.Minute)),
	} {
		f.deliver(t, ev)
	}
	halfMs := 500 * time.Microsecond

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"no filter, newest first", "", []string{"e5", "e4", "e3", "e2", "e1"}},
		{"environment", "environment=prod", []string{"e5", "e2", "e1"}},
		{"flag across environments", "flag=checkout", []string{"e5", "e3", "e1"}},
		{"actor", "actor=alice", []string{"e3", "e1"}},
		{"environment and flag", "environment=prod&flag=checkout", []string{"e5", "e1"}},
		{"environment, flag and actor", "environment=prod&flag=checkout&actor=bob", []string{"e5"}},
		{"exact match is case-sensitive", "environment=PROD", []string{}},
		{"no prefix match", "flag=check", []string{}},
		{"unknown actor", "actor=nobody", []string{}},
		{"since is inclusive", "since=" + ts(base.Add(2*time.Minute)), []string{"e5", "e4", "e3"}},
		{"until is exclusive", "until=" + ts(base.Add(2*time.Minute)), []string{"e2", "e1"}},
		{"since and until", "since=" + ts(base.Add(time.Minute)) + "&until=" + ts(base.Add(4*time.Minute)), []string{"e4", "e3", "e2"}},
		{"since with an offset", "since=" + url.QueryEscape("2025-03-01T11:02:00+01:00"), []string{"e5", "e4", "e3"}},
		{"since half a millisecond after an entry", "since=" + ts(base.Add(2*time.Minute+halfMs)), []string{"e5", "e4"}},
		{"until half a millisecond after an entry", "until=" + ts(base.Add(2*time.Minute+halfMs)), []string{"e3", "e2", "e1"}},
		{"time range and environment", "environment=staging&until=" + ts(base.Add(3*time.Minute)), []string{"e3"}},
		{"limit", "limit=2", []string{"e5", "e4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventIDs(f.list(t, tt.query).Entries); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("GET ?%s = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
}

func TestListPaging(t *testing.T) { dialects(t, testListPaging) }

func testListPaging(t *testing.T, d storage.Dialect) {
	f := newFixtureOn(t, d)
	// 8 entries in prod and 2 in staging; several share a millisecond, so the order
	// within a millisecond (recording order, newest first) is part of what is paged.
	type seed struct {
		id, env string
		at      time.Duration
	}
	seeds := []seed{
		{"p1", "prod", 0}, {"p2", "prod", time.Minute}, {"s1", "staging", time.Minute},
		{"p3", "prod", time.Minute}, {"p4", "prod", 2 * time.Minute}, {"p5", "prod", 3 * time.Minute},
		{"p6", "prod", 3 * time.Minute}, {"s2", "staging", 3 * time.Minute}, {"p7", "prod", 3 * time.Minute},
		{"p8", "prod", 5 * time.Minute},
	}
	for _, s := range seeds {
		f.deliver(t, event(s.id, flagsv1.TypeFlagUpdated, s.env, "checkout", "alice", base.Add(s.at)))
	}
	wantAll := []string{"p8", "p7", "s2", "p6", "p5", "p4", "p3", "s1", "p2", "p1"}
	if got := eventIDs(f.list(t, "limit=500").Entries); !reflect.DeepEqual(got, wantAll) {
		t.Fatalf("all entries = %v, want %v", got, wantAll)
	}

	tests := []struct {
		name      string
		query     string
		wantPages [][]string
	}{
		{"3 pages of 4", "limit=4", [][]string{{"p8", "p7", "s2", "p6"}, {"p5", "p4", "p3", "s1"}, {"p2", "p1"}}},
		{"last page exactly full", "limit=5", [][]string{{"p8", "p7", "s2", "p6", "p5"}, {"p4", "p3", "s1", "p2", "p1"}}},
		{"filter kept across pages", "environment=prod&limit=3", [][]string{{"p8", "p7", "p6"}, {"p5", "p4", "p3"}, {"p2", "p1"}}},
		{"one per page across a tie", "since=" + ts(base.Add(3*time.Minute)) + "&until=" + ts(base.Add(4*time.Minute)) + "&limit=1",
			[][]string{{"p7"}, {"s2"}, {"p6"}, {"p5"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pages [][]string
			cursor := ""
			for len(pages) <= len(tt.wantPages) {
				q := tt.query
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				page := f.list(t, q)
				pages = append(pages, eventIDs(page.Entries))
				if page.NextCursor == nil || *page.NextCursor == "" {
					break
				}
				cursor = *page.NextCursor
			}
			if !reflect.DeepEqual(pages, tt.wantPages) {
				t.Fatalf("pages = %v, want %v", pages, tt.wantPages)
			}
		})
	}
}

func TestListPagingIgnoresNewerEntries(t *testing.T) { dialects(t, testListPagingIgnoresNewerEntries) }

func testListPagingIgnoresNewerEntries(t *testing.T, d storage.Dialect) {
	// Keyset paging: an entry recorded while a client pages (newer than the cursor)
	// neither shifts the following pages nor repeats an entry already seen.
	f := newFixtureOn(t, d)
	for i, id := range []string{"a", "b", "c", "d", "e", "f"} {
		f.deliver(t, event(id, flagsv1.TypeFlagUpdated, "prod", "checkout", "alice", base.Add(time.Duration(i)*time.Minute)))
	}
	first := f.list(t, "limit=2")
	if got := eventIDs(first.Entries); !reflect.DeepEqual(got, []string{"f", "e"}) {
		t.Fatalf("page 1 = %v, want [f e]", got)
	}
	f.deliver(t, event("new", flagsv1.TypeFlagUpdated, "prod", "checkout", "alice", base.Add(time.Hour)))
	second := f.list(t, "limit=2&cursor="+url.QueryEscape(*first.NextCursor))
	if got := eventIDs(second.Entries); !reflect.DeepEqual(got, []string{"d", "c"}) {
		t.Fatalf("page 2 = %v, want [d c]", got)
	}
}

func TestListRejectsBadQuery(t *testing.T) {
	f := newFixture(t)
	for i := range 3 {
		f.deliver(t, event(string(rune('a'+i)), flagsv1.TypeFlagUpdated, "prod", "checkout", "alice", base.Add(time.Duration(i)*time.Minute)))
	}
	page := f.list(t, "limit=1")
	if page.NextCursor == nil {
		t.Fatal("no nextCursor on a page of 1 out of 3")
	}
	good := *page.NextCursor
	rawCursor := func(s string) string {
		return url.QueryEscape(base64.RawURLEncoding.EncodeToString([]byte(s)))
	}
	at := ts(base)

	tests := []struct {
		name      string
		query     string
		wantField string
	}{
		{"misspelt filter", "envirnoment=prod", "envirnoment"},
		{"unknown parameter", "page=2", "page"},
		{"echo's pretty is not ours", "pretty", "pretty"},
		{"repeated filter", "flag=a&flag=b", "flag"},
		{"empty environment", "environment=", "environment"},
		{"empty flag", "flag=", "flag"},
		{"empty actor", "actor=", "actor"},
		{"since not a timestamp", "since=yesterday", "since"},
		{"since a date only", "since=2025-03-01", "since"},
		{"since empty", "since=", "since"},
		{"until without a zone", "until=2025-03-01T10:00:00", "until"},
		{"until out of range", "until=2025-13-01T10:00:00Z", "until"},
		{"since equals until", "since=" + at + "&until=" + at, "until"},
		{"since after until", "since=" + ts(base.Add(time.Second)) + "&until=" + at, "until"},
		{"limit 0", "limit=0", "limit"},
		{"limit 501", "limit=501", "limit"},
		{"limit negative", "limit=-1", "limit"},
		{"limit not a number", "limit=abc", "limit"},
		{"limit fractional", "limit=1.5", "limit"},
		{"limit empty", "limit=", "limit"},
		{"cursor not base64", "cursor=%21%21%21", "cursor"},
		{"cursor not json", "cursor=" + rawCursor("hello"), "cursor"},
		{"cursor truncated", "cursor=" + url.QueryEscape(good[:len(good)-3]), "cursor"},
		{"cursor first byte changed", "cursor=" + url.QueryEscape("f"+good[1:]), "cursor"},
		{"cursor padded", "cursor=" + url.QueryEscape(good+"=="), "cursor"},
		{"cursor with seq 0", "cursor=" + rawCursor(`{"v":1,"at":1,"seq":0}`), "cursor"},
		{"cursor of another version", "cursor=" + rawCursor(`{"v":2,"at":1,"seq":1}`), "cursor"},
		{"cursor with an extra field", "cursor=" + rawCursor(`{"v":1,"at":1,"seq":1,"x":1}`), "cursor"},
		{"cursor not in canonical form", "cursor=" + rawCursor(`{"seq":1,"v":1,"at":1}`), "cursor"},
		{"malformed query string", "flag=%zz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.get(t, tt.query, "")
			expectBadRequest(t, "GET ?"+tt.query, resp, body, tt.wantField)
		})
	}

	// The good cursor itself, and an empty one (the first page), are accepted.
	if got := eventIDs(f.list(t, "limit=1&cursor="+url.QueryEscape(good)).Entries); !reflect.DeepEqual(got, []string{"b"}) {
		t.Fatalf("page 2 with the issued cursor = %v, want [b]", got)
	}
	if got := eventIDs(f.list(t, "limit=1&cursor=").Entries); !reflect.DeepEqual(got, []string{"c"}) {
		t.Fatalf("empty cursor = %v, want the first page [c]", got)
	}
}

func TestListRequiresAdminToken(t *testing.T) {
	f := newFixture(t)
	f.deliver(t, event("e1", flagsv1.TypeFlagCreated, "prod", "f", "alice", base))
	tests := []struct {
		name       string
		auth       string
		wantStatus int
	}{
		{"no token", "-", http.StatusUnauthorized},
		{"wrong token", "Bearer wrong", http.StatusUnauthorized},
		{"token of another scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s")), http.StatusUnauthorized},
		{"admin token", "Bearer " + adminSecret, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.get(t, "", tt.auth)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusOK {
				return
			}
			if ct := resp.Header.Get(echo.HeaderContentType); ct != httpx.ProblemContentType {
				t.Fatalf("Content-Type = %q, want %q", ct, httpx.ProblemContentType)
			}
			if strings.Contains(string(body), "e1") {
				t.Fatalf("401 body leaks the timeline: %s", body)
			}
			// Authentication comes before validation: a bad query still gets 401.
			if resp, _ := f.get(t, "envirnoment=x", tt.auth); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("bad query without auth: status %d, want 401", resp.StatusCode)
			}
		})
	}
}
