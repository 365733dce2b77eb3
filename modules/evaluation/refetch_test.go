package evaluation_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// refetchQuery is the query a refetch triggered by a change event carries.
func refetchQuery(etag string) string {
	return "?" + url.Values{ofrepv1.QueryFlagConfigETag: {etag}, ofrepv1.QueryFlagConfigLastModified: {"1771622898"}}.Encode()
}

// TestRefetchParametersAreAccepted sends the ADR-0008 query parameters to both
// evaluation endpoints: an etag this replica is at (or past), another environment's, or
// one that is not Switchyard's, changes nothing.
func TestRefetchParametersAreAccepted(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	srv := served(t, h)
	current := snapshotETag(t, srv.URL)
	const single = `{"key":"f","reason":"STATIC","variant":"on","value":true,"metadata":{}}`
	for _, etag := range []string{current, strings.Replace(current, `"c1-`, `"c0-`, 1), `"c9-00000000"`, `"abc123"`, "garbage", ""} {
		t.Run(etag, func(t *testing.T) {
			q := refetchQuery(etag)
			assertResponse(t, h.post("/ofrep/v1/evaluate/flags/f"+q, ``), http.StatusOK, single)
			assertResponse(t, h.post("/ofrep/v1/evaluate/flags"+q, ``), http.StatusOK, `{"flags":[`+single+`]}`)
		})
	}
}

// TestRefetchCatchesUpWithTheStore runs two replicas over one store. Replica a applies
// an event and announces it; a client's refetch lands on replica b, which has not seen
// the event yet (it does not follow the store here): b must catch up before answering,
// not serve the old configuration under an ETag the client would then keep.
func TestRefetchCatchesUpWithTheStore(t *testing.T) {
	dialects(t, func(t *testing.T, d storage.Dialect) {
		a := startedOn(t, d)
		b := a.reopen()
		b.start()
		asrv := served(t, a)

		a.mustDeliver(created(t, "r1", "shared", 1, boolFlag))
		announced := snapshotETag(t, asrv.URL) // what a's stream would carry

		if rec := b.evaluate("shared", ``); rec.Code != http.StatusNotFound {
			t.Fatalf("replica b already serves the flag: %d", rec.Code)
		}
		rec := b.post("/ofrep/v1/evaluate/flags"+refetchQuery(announced), `{"context":{}}`)
		assertResponse(t, rec, http.StatusOK, `{"flags":[{"key":"shared","reason":"STATIC","variant":"on","value":true,"metadata":{}}]}`)
		if etag := rec.Header().Get("ETag"); !strings.HasPrefix(etag, `"1-`) {
			t.Fatalf("refetch ETag %s, want one of revision 1", etag)
		}
		// b caught up for good, for requests without the parameter too.
		assertResponse(t, b.evaluate("shared", ``), http.StatusOK, `{"key":"shared","reason":"STATIC","variant":"on","value":true,"metadata":{}}`)
	})
}

// TestRefetchNamingAnUnreachedRevision names a revision no replica has applied: the
// replica cannot catch up and says so with a 503 rather than answer from an older
// configuration; concurrent such requests all get their answer.
func TestRefetchNamingAnUnreachedRevision(t *testing.T) {
	h := started(t)
	srv := served(t, h)
	future := strings.Replace(snapshotETag(t, srv.URL), `"c0-`, `"c99-`, 1)

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for _, path := range []string{"/ofrep/v1/evaluate/flags", "/ofrep/v1/evaluate/flags/f"} {
				rec := h.post(path+refetchQuery(future), ``)
				var body ofrepv1.GeneralError
				_ = json.Unmarshal(rec.Body.Bytes(), &body)
				if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || body.ErrorCode != ofrepv1.ErrorGeneral {
					t.Errorf("%s naming revision 99: %d %s (Retry-After %q); want 503 GENERAL with Retry-After 1",
						path, rec.Code, rec.Body, rec.Header().Get("Retry-After"))
				}
			}
		})
	}
	wg.Wait()
}
