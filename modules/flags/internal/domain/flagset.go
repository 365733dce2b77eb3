package domain

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"

	"github.com/switchyardhq/switchyard/platform/apperr"
)

// MaxEvaluators bounds an environment's shared rules.
const MaxEvaluators = 256

var evaluatorNamePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$`)

// FlagSet is what an environment's flags share: the $evaluators their targeting may
// reference with {"$ref": name}, and the flag-set metadata published with every flag.
type FlagSet struct {
	Evaluators map[string]json.RawMessage // name -> compact JsonLogic rule
	Metadata   map[string]any
}

// Referenced returns the evaluators rule references with $ref, transitively (an
// evaluator may reference another), or nil when it references none. Names without an
// evaluator are skipped: compiling the rule reports them.
func (s FlagSet) Referenced(rule json.RawMessage) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	queue := refNames(rule)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if _, seen := out[name]; seen {
			continue
		}
		ev, ok := s.Evaluators[name]
		if !ok {
			continue
		}
		if out == nil {
			out = map[string]json.RawMessage{}
		}
		out[name] = ev
		queue = append(queue, refNames(ev)...)
	}
	return out
}

// refNames returns the names of every {"$ref": name} object in rule, in document order.
func refNames(rule json.RawMessage) []string {
	if len(bytes.TrimSpace(rule)) == 0 || !bytes.Contains(rule, []byte(`"$ref"`)) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(rule))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	var names []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if name, ok := x["$ref"].(string); ok && len(x) == 1 {
				names = append(names, name)
				return
			}
			for _, k := range sortedKeys(x) {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return names
}

// sameRules reports whether two evaluator maps hold the same rules under the same names.
func sameRules(a, b map[string]json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for name, ra := range a {
		rb, ok := b[name]
		if !ok || !bytes.Equal(ra, rb) {
			return false
		}
	}
	return true
}

// SameMetadata reports whether two metadata maps are equal; nil equals empty.
func SameMetadata(a, b map[string]any) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// validateEvaluators checks the shape of shared rules and returns them compacted. Whether
// they compile is checked with the flags that use them (see checkEvaluators).
func validateEvaluators(evaluators map[string]json.RawMessage) (map[string]json.RawMessage, FieldErrors) {
	var errs FieldErrors
	if len(evaluators) > MaxEvaluators {
		errs.Add("$evaluators", "too many evaluators: %d, at most %d", len(evaluators), MaxEvaluators)
		return nil, errs
	}
	out := make(map[string]json.RawMessage, len(evaluators))
	for _, name := range sortedKeys(evaluators) {
		field := "$evaluators." + name
		if !evaluatorNamePattern.MatchString(name) {
			errs.Add(field, "evaluator name %q is invalid: use 1-128 letters, digits, '_', '.' or '-'", name)
			continue
		}
		trimmed := bytes.TrimSpace(evaluators[name])
		if len(trimmed) == 0 || trimmed[0] != '{' {
			errs.Add(field, "evaluator %q must be a JSON object (a JsonLogic rule)", name)
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, trimmed); err != nil {
			errs.Add(field, "evaluator %q is not valid JSON: %v", name, err)
			continue
		}
		out[name] = compact.Bytes()
	}
	return out, errs
}

// validateFlagSetMetadata checks flag-set metadata: the same rules as a flag's metadata.
func validateFlagSetMetadata(md map[string]any) FieldErrors {
	err := validateMetadata(md)
	if ae, ok := err.(*apperr.Error); ok {
		return FieldErrors{{Field: ae.Field, Detail: "flag-set " + ae.Detail}}
	}
	return nil
}

// evaluatorDiff names the evaluators added, changed and removed from before to after,
// each sorted.
func evaluatorDiff(before, after map[string]json.RawMessage) (added, changed, removed []string) {
	added, changed, removed = []string{}, []string{}, []string{}
	for name, rule := range after {
		old, ok := before[name]
		switch {
		case !ok:
			added = append(added, name)
		case !bytes.Equal(old, rule):
			changed = append(changed, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			removed = append(removed, name)
		}
	}
	sort.Strings(added)
	sort.Strings(changed)
	sort.Strings(removed)
	return added, changed, removed
}
