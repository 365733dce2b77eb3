package targeting

import "sort"

// Variants returns the variant names the rule can return when every value it can
// return is known statically (string, boolean or number literals, fractional buckets,
// comparisons), and complete=false otherwise. A static rule returns (nil, true).
func (r *Rule) Variants() (names []string, complete bool) {
	if r.static {
		return nil, true
	}
	set := map[string]struct{}{}
	if !collectResults(r.root, set) {
		return nil, false
	}
	names = make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, true
}

// collectResults adds the variant names n can evaluate to; false means unknowable.
func collectResults(n node, set map[string]struct{}) bool {
	switch t := n.(type) {
	case *constNode:
		switch t.v.k {
		case kNull:
			return true
		case kStr, kBool, kNum:
			res, err := (&env{}).result(t.v)
			if err != nil {
				return false
			}
			set[res.Variant] = struct{}{}
			return true
		}
		return false
	case *ifNode:
		for i := 1; i < len(t.args); i += 2 {
			if !collectResults(t.args[i], set) {
				return false
			}
		}
		if len(t.args)%2 == 1 {
			return collectResults(t.args[len(t.args)-1], set)
		}
		return true
	case *logicNode:
		for _, a := range t.args {
			if !collectResults(a, set) {
				return false
			}
		}
		return true
	case *fractionalNode:
		for _, b := range t.buckets {
			if !collectResults(b.variant, set) {
				return false
			}
		}
		return true
	case *notNode, *eqNode, *cmpNode, *inNode, *strCmpNode, *semVerNode:
		set["true"], set["false"] = struct{}{}, struct{}{}
		return true
	case *iterNode:
		if t.kind == iterAll || t.kind == iterNone || t.kind == iterSome {
			set["true"], set["false"] = struct{}{}, struct{}{}
			return true
		}
	}
	return false
}
