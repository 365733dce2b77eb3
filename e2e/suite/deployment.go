package suite

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Deployment is a running Switchyard as its clients see it.
type Deployment struct {
	// Command serves the admin API and the audit timeline; Read serves OFREP. They are
	// one address for the monolith, the command and the read service for the split deploy.
	Command, Read string
	// Token is an admin token; Actor is its name, recorded as who changed what.
	Token, Actor string
	// Sync is true when a successful write is visible to OFREP in the very next request;
	// otherwise changes converge (async bus).
	Sync bool
}

// Response is one HTTP exchange's outcome.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

var client = &http.Client{Timeout: 15 * time.Second}

// Do sends a request to base+path. Admin paths (/api/...) carry the admin token unless
// headers say otherwise: an "Authorization" of "" sends none.
func (d Deployment) Do(t testing.TB, base, method, path, body string, headers map[string]string) Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+d.Token)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Evaluate is an OFREP single evaluation of key for user-1 on the read side.
func (d Deployment) Evaluate(t testing.TB, key string) Response {
	t.Helper()
	return d.Do(t, d.Read, http.MethodPost, "/ofrep/v1/evaluate/flags/"+key, `{"context":{"targetingKey":"user-1"}}`, nil)
}

// AuditEntries is the first page of the audit timeline for query.
func (d Deployment) AuditEntries(t testing.TB, query string) []map[string]any {
	t.Helper()
	resp := d.Do(t, d.Command, http.MethodGet, "/api/v1/audit?"+query, "", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("audit: %d %s", resp.Status, resp.Body)
	}
	var page struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(resp.Body, &page); err != nil {
		t.Fatal(err)
	}
	return page.Entries
}

// Eventually polls cond every 10 ms for up to 20 s.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 20s waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
