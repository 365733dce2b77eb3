package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// Before measuring, Switchyard's and flagd's answers for the same seed file are compared
// flag by flag, in the benchmark's context and in comparisonContexts. A difference is a
// finding about semantics that the report states; it does not stop the run (both servers
// still answer every request).

// comparison is one evaluation context both servers are asked about, and how the report
// names it.
type comparison struct {
	label string
	body  []byte // the OFREP request body
}

// comparisonContexts are the benchmark's own context and 16 more, so that every seeded
// rule is checked on both of its branches and fractional on many bucketing values:
// targeting keys user-0..user-14 (and one context without any), emails in and out of
// the ends_with domain, plans in and out of the in list, versions below, at and above
// the sem_ver bound (one with a "v" prefix).
func comparisonContexts() []comparison {
	out := []comparison{{"the benchmark's context", []byte(evalContext)}}
	emails := []string{"x@example.com", "x@other.org"}
	plans := []string{"pro", "free", "enterprise"}
	versions := []string{"1.9.9", "2.0.0", "2.10.1", "v2.3.1"}
	for i := range 16 {
		c := map[string]any{"email": emails[i%len(emails)], "plan": plans[i%len(plans)], "appVersion": versions[i%len(versions)]}
		key := "no targetingKey"
		if i < 15 {
			key = fmt.Sprintf("user-%d", i)
			c["targetingKey"] = key
		}
		body, _ := json.Marshal(ofrepv1.EvaluationRequest{Context: c}) // maps of strings always marshal
		out = append(out, comparison{fmt.Sprintf("%s/%s/%s/%s", key, c["email"], c["plan"], c["appVersion"]), body})
	}
	return out
}

// difference is one field of one flag's evaluation on which the two servers disagree.
type difference struct {
	Where      string // "bulk", or "single" for the single-evaluation endpoint
	Context    string // the comparison's label
	Key        string
	Field      string // value, variant, reason, errorCode, metadata, or missing
	Switchyard string
	Flagd      string
}

// evaluations are one server's answers for evalContext: every flag of the bulk
// evaluation, and the single evaluations of the given keys, by key.
type evaluations struct {
	bulk, single map[string]ofrepv1.Evaluation
}

// collectEvaluations asks base's OFREP endpoints for the bulk evaluation and the single
// evaluations of keys, with reqBody as the request.
func collectEvaluations(ctx context.Context, client *http.Client, name, base string, reqBody []byte, keys []string) (evaluations, error) {
	post := func(path string) scenario {
		s := postScenario(kindBulk, "", name, &child{base: base}, path, http.StatusOK, nil)
		s.target.Body = reqBody
		return s
	}
	ev := evaluations{bulk: map[string]ofrepv1.Evaluation{}, single: map[string]ofrepv1.Evaluation{}}
	_, body, err := check(ctx, client, post(ofrepv1.PathEvaluateFlags))
	if err != nil {
		return ev, err
	}
	var bulk ofrepv1.BulkEvaluation
	if err := json.Unmarshal(body, &bulk); err != nil {
		return ev, fmt.Errorf("%s: bulk answer is not a bulk evaluation: %w", name, err)
	}
	for _, f := range bulk.Flags {
		ev.bulk[f.Key] = f
	}
	for _, key := range keys {
		_, body, err := check(ctx, client, post(flagPath(key)))
		if err != nil {
			return ev, err
		}
		var one ofrepv1.Evaluation
		if err := json.Unmarshal(body, &one); err != nil {
			return ev, fmt.Errorf("%s: answer for %s is not an evaluation: %w", name, key, err)
		}
		if one.Key == "" {
			one.Key = key
		}
		ev.single[key] = one
	}
	return ev, nil
}

// compareEvaluations lists every difference between Switchyard's and flagd's answers to
// the same request, in key order (bulk first), each labelled with the context's label.
func compareEvaluations(label string, sy, fl evaluations) []difference {
	var out []difference
	for _, part := range []struct {
		where  string
		sy, fl map[string]ofrepv1.Evaluation
	}{{"bulk", sy.bulk, fl.bulk}, {"single", sy.single, fl.single}} {
		keys := map[string]bool{}
		for k := range part.sy {
			keys[k] = true
		}
		for k := range part.fl {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			a, inSy := part.sy[k]
			b, inFl := part.fl[k]
			if !inSy || !inFl {
				out = append(out, difference{Where: part.where, Context: label, Key: k, Field: "missing",
					Switchyard: present(inSy), Flagd: present(inFl)})
				continue
			}
			for _, d := range compareOne(part.where, a, b) {
				d.Context = label
				out = append(out, d)
			}
		}
	}
	return out
}

func present(ok bool) string {
	if ok {
		return "answered"
	}
	return "absent"
}

// compareOne compares the fields a client acts on: value (as JSON values, so 1 and 1.0
// agree), variant, reason, error code, and flag metadata.
func compareOne(where string, a, b ofrepv1.Evaluation) []difference {
	var out []difference
	add := func(field, x, y string) {
		if x != y {
			out = append(out, difference{Where: where, Key: a.Key, Field: field, Switchyard: x, Flagd: y})
		}
	}
	if !jsonEqual(a.Value, b.Value) {
		out = append(out, difference{Where: where, Key: a.Key, Field: "value", Switchyard: showJSON(a.Value), Flagd: showJSON(b.Value)})
	}
	add("variant", a.Variant, b.Variant)
	add("reason", a.Reason, b.Reason)
	add("errorCode", a.ErrorCode, b.ErrorCode)
	if !reflect.DeepEqual(nilIfEmpty(a.Metadata), nilIfEmpty(b.Metadata)) {
		out = append(out, difference{Where: where, Key: a.Key, Field: "metadata", Switchyard: showAny(a.Metadata), Flagd: showAny(b.Metadata)})
	}
	return out
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(bytes.TrimSpace(a)) == 0 || len(bytes.TrimSpace(b)) == 0 {
		return len(bytes.TrimSpace(a)) == len(bytes.TrimSpace(b))
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

func nilIfEmpty(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func showJSON(v json.RawMessage) string {
	if len(bytes.TrimSpace(v)) == 0 {
		return "(none)"
	}
	return string(bytes.TrimSpace(v))
}

func showAny(m map[string]any) string {
	if len(m) == 0 {
		return "(none)"
	}
	b, _ := json.Marshal(m) // map keys sorted
	return string(b)
}

// maxExamples is how many differing flags a finding names.
const maxExamples = 3

// semanticsNotes turns the differences found in `contexts` contexts into the report's
// findings: one line per field on which the servers disagree, with how many evaluations
// and a few examples, each named with its seeded rule and its context. No difference is
// a finding too.
func semanticsNotes(diffs []difference, cfg config, contexts int) []string {
	if len(diffs) == 0 {
		return []string{fmt.Sprintf("flagd semantics: flagd and Switchyard agree on value, variant, reason, error code and metadata for all %d flags in %d contexts (bulk) and for the single evaluations checked, same file", cfg.Flags, contexts)}
	}
	type group struct {
		where, field string
		diffs        []difference
	}
	var order []string
	groups := map[string]*group{}
	for _, d := range diffs {
		id := d.Where + " " + d.Field
		g := groups[id]
		if g == nil {
			g = &group{where: d.Where, field: d.Field}
			groups[id] = g
			order = append(order, id)
		}
		g.diffs = append(g.diffs, d)
	}
	out := make([]string, 0, len(order))
	for _, id := range order {
		g := groups[id]
		byRule := map[string]int{}
		for _, d := range g.diffs {
			byRule[strings.Trim(ruleLabel(d.Key, cfg), " ()")]++
		}
		// Examples of as many different rules as there are, in the order found.
		var examples []string
		ruleShown, diffShown := map[string]bool{}, map[int]bool{}
		for pass := 0; pass < 2 && len(examples) < maxExamples; pass++ {
			for i, d := range g.diffs {
				rule := strings.Trim(ruleLabel(d.Key, cfg), " ()")
				if len(examples) == maxExamples || diffShown[i] || (pass == 0 && ruleShown[rule]) {
					continue
				}
				ruleShown[rule], diffShown[i] = true, true
				examples = append(examples, fmt.Sprintf("%s%s in %s: Switchyard %s, flagd %s", d.Key, ruleLabel(d.Key, cfg), d.Context, d.Switchyard, d.Flagd))
			}
		}
		more := ""
		if n := len(g.diffs) - len(examples); n > 0 {
			more = fmt.Sprintf("; and %d more", n)
		}
		rules := ""
		if len(byRule) > 1 || byRule[""] == 0 {
			var parts []string
			for _, r := range slices.Sorted(maps.Keys(byRule)) {
				name := r
				if name == "" {
					name = "other"
				}
				parts = append(parts, fmt.Sprintf("%s %d", name, byRule[r]))
			}
			rules = " [by rule: " + strings.Join(parts, ", ") + "]"
		}
		out = append(out, fmt.Sprintf("flagd semantics: %s differs in %d %s evaluation(s) of the %d contexts%s: %s%s",
			g.field, len(g.diffs), g.where, contexts, rules, strings.Join(examples, "; "), more))
	}
	return out
}

// ruleLabel names the seeded rule of a flag (" (sem_ver)"), or "" for a static flag or
// a key that is not a seeded one.
func ruleLabel(key string, cfg config) string {
	n, ok := strings.CutPrefix(key, "bench-")
	if !ok {
		return ""
	}
	i, err := strconv.Atoi(n)
	if err != nil {
		return ""
	}
	if name := seedRuleName(i, cfg.Flags, cfg.Targeted); name != "" {
		return " (" + name + ")"
	}
	return " (static)"
}
