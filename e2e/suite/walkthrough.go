package suite

import (
	"net/http"
	"testing"
)

// NewBanner is the README's example flag.
const NewBanner = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`

// Walkthrough is README's curl walk-through: create a flag, evaluate it, toggle it,
// evaluate again, read the audit timeline with who, why and before/after.
func Walkthrough(t *testing.T, d Deployment) {
	t.Helper()
	created := d.Do(t, d.Command, http.MethodPut, "/api/v1/environments/development/flags/new-banner", NewBanner,
		map[string]string{"X-Change-Reason": "launch the banner"})
	if created.Status != http.StatusCreated || created.Header.Get("ETag") != `"1"` {
		t.Fatalf("create: %d ETag %q %s", created.Status, created.Header.Get("ETag"), created.Body)
	}
	if body := created.JSON(t); body["version"] != 1.0 || body["updatedBy"] != d.Actor {
		t.Fatalf("create response %v, want version 1 updated by %s", body, d.Actor)
	}

	evaluated := d.visible(t, "new-banner", func(m map[string]any) bool { return m["value"] == true })
	if evaluated["reason"] != "STATIC" || evaluated["variant"] != "on" {
		t.Fatalf("evaluation after create: %v", evaluated)
	}

	toggled := d.Do(t, d.Command, http.MethodPut, "/api/v1/environments/development/flags/new-banner/state",
		`{"state":"DISABLED"}`, map[string]string{"If-Match": `"1"`, "X-Change-Reason": "incident 42"})
	if toggled.Status != http.StatusOK || toggled.Header.Get("ETag") != `"2"` {
		t.Fatalf("toggle: %d %s", toggled.Status, toggled.Body)
	}
	disabled := d.visible(t, "new-banner", func(m map[string]any) bool { return m["reason"] == "DISABLED" })
	if _, hasValue := disabled["value"]; hasValue {
		t.Fatalf("a disabled flag must defer to the code default (no value): %v", disabled)
	}

	var entries []map[string]any
	Eventually(t, "audit has both changes", func() bool {
		entries = d.AuditEntries(t, "flag=new-banner")
		return len(entries) == 2
	})
	newest := entries[0]
	if newest["action"] != "flag.state_changed" || newest["actor"] != d.Actor || newest["reason"] != "incident 42" || newest["version"] != 2.0 {
		t.Fatalf("newest audit entry %v", newest)
	}
	if before, after := newest["before"].(map[string]any), newest["after"].(map[string]any); before["state"] != "ENABLED" || after["state"] != "DISABLED" {
		t.Fatalf("audit before/after: %v -> %v", newest["before"], newest["after"])
	}
	if entries[1]["action"] != "flag.created" || entries[1]["before"] != nil {
		t.Fatalf("oldest audit entry %v", entries[1])
	}
}

// visible returns the evaluation of key once ok accepts it. With the sync bus the change
// must be visible in the very next request; with async it must converge.
func (d Deployment) visible(t *testing.T, key string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	if d.Sync {
		got := d.Evaluate(t, key).JSON(t)
		if !ok(got) {
			t.Fatalf("sync bus: the evaluation right after a successful write does not see it: %v", got)
		}
		return got
	}
	var got map[string]any
	Eventually(t, "async convergence of "+key, func() bool {
		resp := d.Evaluate(t, key)
		if resp.Status != http.StatusOK {
			return false
		}
		got = resp.JSON(t)
		return ok(got)
	})
	return got
}
