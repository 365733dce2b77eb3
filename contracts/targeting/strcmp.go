package targeting

import "strings"

// strCmpNode is flagd's starts_with / ends_with. Both arguments must be strings; any
// other input makes the whole rule null (flagd's operator error), not false.
type strCmpNode struct {
	prefix bool
	a, b   node
}

func compileStrCmp(prefix bool) operator {
	return func(c *compiler, args []any, at argPath) (node, error) {
		ns, err := c.subsOf(args, at, 2, 2)
		if err != nil {
			return nil, err
		}
		return &strCmpNode{prefix: prefix, a: ns[0], b: ns[1]}, nil
	}
}

func (n *strCmpNode) eval(e *env) value {
	a, b := n.a.eval(e), n.b.eval(e)
	if a.k != kStr || b.k != kStr {
		return e.halt()
	}
	if n.prefix {
		return boolVal(strings.HasPrefix(a.s, b.s))
	}
	return boolVal(strings.HasSuffix(a.s, b.s))
}
