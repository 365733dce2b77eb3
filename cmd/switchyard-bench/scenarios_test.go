package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// ofrepPeer stands in for switchyard's OFREP endpoints, with knobs to break each thing
// prepareScenarios checks.
type ofrepPeer struct {
	flags      int
	noETag     bool
	ignore304  bool
	reason     string // of single evaluations
	wrongKey   bool
	failStatus int // answer every single evaluation with this status when set
}

func (p ofrepPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if string(body) != evalContext {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if key, ok := strings.CutPrefix(r.URL.Path, "/ofrep/v1/evaluate/flags/"); ok {
		if p.failStatus != 0 {
			w.WriteHeader(p.failStatus)
			return
		}
		if p.wrongKey {
			key = "other"
		}
		_ = json.NewEncoder(w).Encode(ofrepv1.Evaluation{Key: key, Reason: p.reason, Variant: "on", Value: json.RawMessage(`true`)})
		return
	}
	if !p.noETag {
		w.Header().Set("ETag", `"3-abc"`)
	}
	if !p.ignore304 && r.Header.Get("If-None-Match") == `"3-abc"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var bulk ofrepv1.BulkEvaluation
	for i := range p.flags {
		bulk.Flags = append(bulk.Flags, ofrepv1.Evaluation{Key: seedKey(i), Reason: ofrepv1.ReasonStatic, Value: json.RawMessage(`true`)})
	}
	_ = json.NewEncoder(w).Encode(bulk)
}

func TestPrepareScenariosChecksEveryEndpointFirst(t *testing.T) {
	bare := httptest.NewServer(newBareEcho())
	defer bare.Close()
	healthy := ofrepPeer{flags: 10, reason: ofrepv1.ReasonStatic}
	tests := []struct {
		name      string
		peer      ofrepPeer
		targeted  int
		wantKinds []kind
		wantErr   string
		wantNote  string
	}{
		{name: "healthy", peer: healthy, wantKinds: []kind{kindBare, kindSingle, kindBulk, kindNotModified, kindBareAgain}},
		{name: "with a targeted flag the engine evaluates", peer: ofrepPeer{flags: 10, reason: ofrepv1.ReasonStatic}, targeted: 2,
			wantKinds: []kind{kindBare, kindSingle, kindTargeted, kindBulk, kindNotModified, kindBareAgain}},
		{name: "single evaluation fails", peer: ofrepPeer{flags: 10, failStatus: http.StatusServiceUnavailable}, wantErr: "answered 503, want 200"},
		{name: "wrong flag answered", peer: ofrepPeer{flags: 10, reason: ofrepv1.ReasonStatic, wrongKey: true}, wantErr: "want flag bench-000 evaluated"},
		{name: "static flag not STATIC", peer: ofrepPeer{flags: 10, reason: ofrepv1.ReasonDefault}, wantErr: `reason "DEFAULT"`},
		{name: "bulk misses flags", peer: ofrepPeer{flags: 9, reason: ofrepv1.ReasonStatic}, wantErr: "answered 9 flags, want the 10 seeded"},
		{name: "no ETag", peer: ofrepPeer{flags: 10, reason: ofrepv1.ReasonStatic, noETag: true}, wantErr: "no ETag"},
		{name: "ETag not honoured", peer: ofrepPeer{flags: 10, reason: ofrepv1.ReasonStatic, ignore304: true}, wantErr: "answered 200, want 304"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sy := httptest.NewServer(tt.peer)
			defer sy.Close()
			cfg := config{Flags: 10, Targeted: tt.targeted, Timeout: 5 * time.Second}
			got, notes, err := prepareScenarios(t.Context(), cfg, &child{name: "switchyard", base: sy.URL}, &child{name: "bare", base: bare.URL})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kinds []kind
			for _, s := range got {
				kinds = append(kinds, s.kind)
			}
			if fmt.Sprint(kinds) != fmt.Sprint(tt.wantKinds) {
				t.Errorf("scenarios %v, want %v", kinds, tt.wantKinds)
			}
			if len(notes) != 0 {
				t.Errorf("notes %q, want none", notes)
			}
			nm := got[len(got)-2].target
			if nm.Expect != http.StatusNotModified || nm.Header.Get("If-None-Match") != `"3-abc"` || got[0].target.Header.Get("If-None-Match") != "" {
				t.Errorf("the 304 scenario sends %q expecting %d; the others must send no If-None-Match", nm.Header.Get("If-None-Match"), nm.Expect)
			}
			if again := got[len(got)-1]; again.target.URL != got[0].target.URL || again.name == got[0].name {
				t.Errorf("the noise check %q targets %s, want the baseline's %s under another name", again.name, again.target.URL, got[0].target.URL)
			}
		})
	}
}

func TestPrepareScenariosNotesATargetedFlagAnsweredWithoutRules(t *testing.T) {
	bare := httptest.NewServer(newBareEcho())
	defer bare.Close()
	// A static answer for the static flag, DEFAULT (rules not evaluated) for the targeted one.
	mux := http.NewServeMux()
	mux.Handle("/", ofrepPeer{flags: 10, reason: ofrepv1.ReasonStatic})
	mux.Handle("/ofrep/v1/evaluate/flags/"+targetedKey(10, 2), ofrepPeer{flags: 10, reason: ofrepv1.ReasonDefault})
	sy := httptest.NewServer(mux)
	defer sy.Close()
	_, notes, err := prepareScenarios(t.Context(), config{Flags: 10, Targeted: 2, Timeout: 5 * time.Second}, &child{base: sy.URL}, &child{base: bare.URL})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "does not evaluate targeting rules") {
		t.Errorf("notes %q, want one saying the rules were not evaluated", notes)
	}
}

func TestBareEchoAnswersEveryPostWithTheConstant(t *testing.T) {
	e := newBareEcho()
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodPost, "/ofrep/v1/evaluate/flags/bench-000", http.StatusOK, string(bareBody)},
		{http.MethodPost, "/anything", http.StatusOK, string(bareBody)},
		{http.MethodGet, "/readyz", http.StatusOK, `{"status":"ready"}`},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(evalContext)))
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, rec.Code, rec.Body, tt.status, tt.body)
		}
	}
	if n := len(bareBody); n < 80 || n > 120 {
		t.Errorf("the constant body is %d bytes, want about 100", n)
	}
}

func TestPrepareFlagdScenariosLeavesOutWhatFlagdDoesNotSupport(t *testing.T) {
	all := []kind{kindBulk, kindNotModified, kindSingle, kindTargeted}
	tests := []struct {
		name      string
		peer      ofrepPeer
		targeted  int
		wantKinds []kind
		wantNote  string
		wantErr   string
	}{
		{name: "everything", peer: ofrepPeer{flags: 10, reason: ofrepv1.ReasonTargetingMatch}, targeted: 2, wantKinds: all},
		{name: "no targeted flag seeded", peer: ofrepPeer{flags: 10}, wantKinds: []kind{kindBulk, kindNotModified, kindSingle}},
		{name: "no ETag", peer: ofrepPeer{flags: 10, noETag: true}, targeted: 2,
			wantKinds: []kind{kindBulk, kindSingle, kindTargeted}, wantNote: "flagd sends no ETag"},
		{name: "ETag without 304", peer: ofrepPeer{flags: 10, ignore304: true}, targeted: 2,
			wantKinds: []kind{kindBulk, kindSingle, kindTargeted}, wantNote: `did not answer 304 to it (flagd bulk, If-None-Match (304): POST`},
		{name: "a seeded flag missing", peer: ofrepPeer{flags: 9}, wantErr: "answered 9 flags, want the 10 seeded"},
		{name: "single evaluation fails", peer: ofrepPeer{flags: 10, failStatus: http.StatusNotFound}, wantErr: "answered 404, want 200"},
		{name: "another flag answered", peer: ofrepPeer{flags: 10, wrongKey: true}, wantErr: "want flag bench-000 evaluated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.peer)
			defer srv.Close()
			fl := &child{name: "flagd", base: srv.URL}
			got, notes, err := prepareFlagdScenarios(t.Context(), config{Flags: 10, Targeted: tt.targeted, Timeout: 5 * time.Second}, fl)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kinds []kind
			for k, s := range got {
				kinds = append(kinds, k)
				if s.peer != flagdPeer || s.kind != k || !strings.HasPrefix(s.name, "flagd ") || !strings.HasPrefix(s.target.URL, srv.URL) {
					t.Errorf("scenario %q (%s, peer %q) targets %s: want a flagd scenario of its kind on flagd", s.name, s.kind, s.peer, s.target.URL)
				}
			}
			slices.Sort(kinds)
			if fmt.Sprint(kinds) != fmt.Sprint(tt.wantKinds) {
				t.Errorf("kinds %v, want %v", kinds, tt.wantKinds)
			}
			joined := strings.Join(notes, "\n")
			if (tt.wantNote == "") != (joined == "") || !strings.Contains(joined, tt.wantNote) {
				t.Errorf("notes %q, want %q", joined, tt.wantNote)
			}
			if len(joined) > 400 {
				t.Errorf("a note of %d bytes: quote less of the answer", len(joined))
			}
		})
	}
}

func TestInterleavePutsFlagdRightAfterSwitchyard(t *testing.T) {
	sc := func(k kind, peer string) scenario { return scenario{kind: k, peer: peer, name: peer + string(k)} }
	sy := []scenario{sc(kindBare, ""), sc(kindSingle, ""), sc(kindTargeted, ""), sc(kindBulk, ""), sc(kindNotModified, ""), sc(kindBareAgain, "")}
	fl := map[kind]scenario{kindSingle: sc(kindSingle, flagdPeer), kindBulk: sc(kindBulk, flagdPeer), kindTargeted: sc(kindTargeted, flagdPeer)}
	var names []string
	for _, s := range interleave(sy, fl) {
		names = append(names, s.name)
	}
	want := "bare single flagdsingle targeted flagdtargeted bulk flagdbulk not-modified bare-again"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("order %q, want %q", got, want)
	}
	if got := interleave(sy, nil); len(got) != len(sy) {
		t.Errorf("without flagd: %d scenarios, want Switchyard's %d", len(got), len(sy))
	}
}
