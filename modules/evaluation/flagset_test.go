package evaluation_test

import (
	"net/http"
	"testing"

	"github.com/switchyardhq/switchyard/platform/storage"
)

// TestFlagSetMetadataIsMergedUnderTheFlagsOwnAndSurvivesRestart checks flagd's metadata
// rule (the flag's keys win over its flag set's) and that what an event carried about its
// flag set is kept in the module's own store.
func TestFlagSetMetadataIsMergedUnderTheFlagsOwnAndSurvivesRestart(t *testing.T) {
	dialects(t, testFlagSetMetadataSurvivesRestart)
}

func testFlagSetMetadataSurvivesRestart(t *testing.T, d storage.Dialect) {
	h := startedOn(t, d)
	ev := created(t, "e1", "checkout", 1, `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","metadata":{"owner":"payments","tier":1}}`)
	ev.FlagSetMetadata = map[string]any{"owner": "platform", "flagSetId": "shop"}
	h.mustDeliver(ev)

	want := `{"key":"checkout","reason":"STATIC","variant":"on","value":true,"metadata":{"flagSetId":"shop","owner":"payments","tier":1}}`
	assertResponse(t, h.evaluate("checkout", `{"context":{}}`), http.StatusOK, want)

	restarted := h.reopen()
	restarted.start()
	assertResponse(t, restarted.evaluate("checkout", `{"context":{}}`), http.StatusOK, want)
}
