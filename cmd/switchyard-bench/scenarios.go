package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/switchyardhq/switchyard/cmd/switchyard-bench/internal/load"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// scenario is one target of one server, measured on its own.
type scenario struct {
	kind   kind
	peer   string // "" for Switchyard and the bare handler; flagdPeer for flagd
	name   string
	server *child
	target load.Target
}

// postScenario is a POST of evalContext to srv's path, expecting status expect.
func postScenario(k kind, peer, name string, srv *child, path string, expect int, header http.Header) scenario {
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	for field, values := range header {
		h[field] = values
	}
	return scenario{kind: k, peer: peer, name: name, server: srv, target: load.Target{
		Method: http.MethodPost, URL: srv.base + path, Body: []byte(evalContext), Header: h, Expect: expect,
	}}
}

// flagPath is the single evaluation of key.
func flagPath(key string) string { return "/ofrep/v1/evaluate/flags/" + key }

// prepareScenarios sends each scenario's request once and checks the answer (status and
// shape: the right flag, every seeded flag in bulk, a 304 for the current ETag), so that
// a run never measures error pages. It returns the scenarios, the baseline first and
// again last (the second measurement of the same handler shows the run's noise), and
// notes for the report.
func prepareScenarios(ctx context.Context, cfg config, sy, bare *child) ([]scenario, []string, error) {
	post := func(k kind, name string, srv *child, path string, expect int, header http.Header) scenario {
		return postScenario(k, "", name, srv, path, expect, header)
	}
	client := &http.Client{Timeout: cfg.Timeout}
	var notes []string

	bareS := post(kindBare, "bare echo handler", bare, flagPath(staticKey()), http.StatusOK, nil)
	if _, got, err := check(ctx, client, bareS); err != nil {
		return nil, nil, err
	} else if !bytes.Equal(got, bareBody) {
		return nil, nil, fmt.Errorf("%s answered %s, want its constant body", bareS.name, got)
	}

	single := post(kindSingle, "OFREP single evaluation", sy, flagPath(staticKey()), http.StatusOK, nil)
	if ev, err := checkEvaluation(ctx, client, single, staticKey()); err != nil {
		return nil, nil, err
	} else if ev.Reason != ofrepv1.ReasonStatic || len(ev.Value) == 0 {
		return nil, nil, fmt.Errorf("%s: flag %s answered reason %q value %s, want a STATIC value", single.name, staticKey(), ev.Reason, ev.Value)
	}
	scenarios := []scenario{bareS, single}

	if cfg.Targeted > 0 {
		key := targetedKey(cfg.Flags, cfg.Targeted)
		targeted := post(kindTargeted, "OFREP single, targeted flag", sy, flagPath(key), http.StatusOK, nil)
		ev, err := checkEvaluation(ctx, client, targeted, key)
		if err != nil {
			return nil, nil, err
		}
		if ev.Reason == ofrepv1.ReasonDefault {
			notes = append(notes, fmt.Sprintf("%s: flag %s answered reason DEFAULT: this build does not evaluate targeting rules, so the scenario measures a static lookup", targeted.name, key))
		}
		scenarios = append(scenarios, targeted)
	}

	bulk := post(kindBulk, fmt.Sprintf("OFREP bulk (%d flags)", cfg.Flags), sy, "/ofrep/v1/evaluate/flags", http.StatusOK, nil)
	header, got, err := check(ctx, client, bulk)
	if err != nil {
		return nil, nil, err
	}
	var result ofrepv1.BulkEvaluation
	if err := json.Unmarshal(got, &result); err != nil {
		return nil, nil, fmt.Errorf("%s: answer is not a bulk evaluation: %w", bulk.name, err)
	}
	if len(result.Flags) != cfg.Flags {
		return nil, nil, fmt.Errorf("%s: answered %d flags, want the %d seeded", bulk.name, len(result.Flags), cfg.Flags)
	}
	for _, f := range result.Flags {
		if f.ErrorCode != "" {
			return nil, nil, fmt.Errorf("%s: flag %s failed: %s %s", bulk.name, f.Key, f.ErrorCode, f.ErrorDetails)
		}
	}
	etag := header.Get("ETag")
	if etag == "" {
		return nil, nil, fmt.Errorf("%s: answer has no ETag", bulk.name)
	}
	notModified := post(kindNotModified, "OFREP bulk, If-None-Match (304)", sy, "/ofrep/v1/evaluate/flags",
		http.StatusNotModified, http.Header{"If-None-Match": {etag}})
	if _, _, err := check(ctx, client, notModified); err != nil {
		return nil, nil, err
	}
	again := bareS
	again.kind, again.name = kindBareAgain, "bare echo handler, again"
	return append(scenarios, bulk, notModified, again), notes, nil
}

// check sends s's request once and returns the answer when its status is the expected one.
func check(ctx context.Context, client *http.Client, s scenario) (http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, s.target.Method, s.target.URL, bytes.NewReader(s.target.Body))
	if err != nil {
		return nil, nil, err
	}
	req.Header = s.target.Header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read answer: %w", s.name, err)
	}
	if resp.StatusCode != s.target.Expect {
		return nil, nil, fmt.Errorf("%s: %s %s answered %d, want %d: %s", s.name, s.target.Method, s.target.URL, resp.StatusCode, s.target.Expect, body)
	}
	return resp.Header, body, nil
}

func checkEvaluation(ctx context.Context, client *http.Client, s scenario, key string) (ofrepv1.Evaluation, error) {
	_, body, err := check(ctx, client, s)
	if err != nil {
		return ofrepv1.Evaluation{}, err
	}
	var ev ofrepv1.Evaluation
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, fmt.Errorf("%s: answer is not an evaluation: %w", s.name, err)
	}
	if ev.Key != key || ev.ErrorCode != "" {
		return ev, fmt.Errorf("%s: answered %s, want flag %s evaluated", s.name, body, key)
	}
	return ev, nil
}

// prepareFlagdScenarios checks flagd's answers as prepareScenarios checks Switchyard's
// and returns flagd's scenarios by kind, with notes for the report. What flagd does not
// support is left out with a note: a bulk answer without an ETag, or an ETag that does
// not give a 304, leaves out the 304 scenario. An error means flagd cannot be measured
// (a seeded flag it does not serve, an answer that is not OFREP).
func prepareFlagdScenarios(ctx context.Context, cfg config, fl *child) (map[kind]scenario, []string, error) {
	post := func(k kind, name, path string, expect int, header http.Header) scenario {
		return postScenario(k, flagdPeer, name, fl, path, expect, header)
	}
	client := &http.Client{Timeout: cfg.Timeout}
	out := map[kind]scenario{}
	var notes []string

	single := post(kindSingle, "flagd single evaluation", flagPath(staticKey()), http.StatusOK, nil)
	if _, err := checkEvaluation(ctx, client, single, staticKey()); err != nil {
		return nil, nil, err
	}
	out[kindSingle] = single
	if cfg.Targeted > 0 {
		key := targetedKey(cfg.Flags, cfg.Targeted)
		targeted := post(kindTargeted, "flagd single, targeted flag", flagPath(key), http.StatusOK, nil)
		if _, err := checkEvaluation(ctx, client, targeted, key); err != nil {
			return nil, nil, err
		}
		out[kindTargeted] = targeted
	}
	bulk := post(kindBulk, fmt.Sprintf("flagd bulk (%d flags)", cfg.Flags), "/ofrep/v1/evaluate/flags", http.StatusOK, nil)
	header, got, err := check(ctx, client, bulk)
	if err != nil {
		return nil, nil, err
	}
	var result ofrepv1.BulkEvaluation
	if err := json.Unmarshal(got, &result); err != nil {
		return nil, nil, fmt.Errorf("%s: answer is not a bulk evaluation: %w", bulk.name, err)
	}
	if len(result.Flags) != cfg.Flags {
		return nil, nil, fmt.Errorf("%s: answered %d flags, want the %d seeded", bulk.name, len(result.Flags), cfg.Flags)
	}
	out[kindBulk] = bulk

	etag := header.Get("ETag")
	if etag == "" {
		notes = append(notes, "flagd sends no ETag with its bulk evaluation, so it cannot answer If-None-Match with a 304: the 304 scenario is measured for Switchyard only")
		return out, notes, nil
	}
	notModified := post(kindNotModified, "flagd bulk, If-None-Match (304)", "/ofrep/v1/evaluate/flags", http.StatusNotModified, http.Header{"If-None-Match": {etag}})
	if _, _, err := check(ctx, client, notModified); err != nil {
		notes = append(notes, fmt.Sprintf("flagd sent ETag %s with its bulk evaluation but did not answer 304 to it (%s): the 304 scenario is measured for Switchyard only", clip(etag, 80), clip(err.Error(), 160)))
		return out, notes, nil
	}
	out[kindNotModified] = notModified
	return out, notes, nil
}

// interleave puts each flagd scenario right after Switchyard's of the same kind, so that
// the two run next to each other in every round: whatever load the machine has at that
// moment falls on both.
func interleave(scenarios []scenario, flagd map[kind]scenario) []scenario {
	out := make([]scenario, 0, len(scenarios)+len(flagd))
	for _, s := range scenarios {
		out = append(out, s)
		if f, ok := flagd[s.kind]; ok && s.peer == "" {
			out = append(out, f)
		}
	}
	return out
}

// clip cuts s to n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
