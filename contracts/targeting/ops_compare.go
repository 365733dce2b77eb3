package targeting

// eqNode is ==, !=, === or !==.
type eqNode struct {
	a, b           node
	strict, negate bool
}

func compileEq(strict, negate bool) operator {
	return func(c *compiler, args []any, at argPath) (node, error) {
		ns, err := c.subsOf(args, at, 2, 2)
		if err != nil {
			return nil, err
		}
		return &eqNode{a: ns[0], b: ns[1], strict: strict, negate: negate}, nil
	}
}

func (n *eqNode) eval(e *env) value {
	a, b := n.a.eval(e), n.b.eval(e)
	if n.strict {
		return boolVal(strictEq(a, b) != n.negate)
	}
	return boolVal(looseEq(a, b) != n.negate)
}

// cmpNode is <, <=, > or >=; < and <= take a third argument for "between".
type cmpNode struct {
	op      string
	a, b, c node
}

func compileCmp(op string) operator {
	return func(c *compiler, args []any, at argPath) (node, error) {
		hi := 2
		if op == "<" || op == "<=" {
			hi = 3
		}
		ns, err := c.subsOf(args, at, 2, hi)
		if err != nil {
			return nil, err
		}
		n := &cmpNode{op: op, a: ns[0], b: ns[1]}
		if len(ns) == 3 {
			n.c = ns[2]
		}
		return n, nil
	}
}

func (n *cmpNode) eval(e *env) value {
	a, b := n.a.eval(e), n.b.eval(e)
	switch n.op {
	case ">":
		return boolVal(lessThan(b, a))
	case ">=":
		return boolVal(lessEq(b, a))
	}
	cmp := lessThan
	if n.op == "<=" {
		cmp = lessEq
	}
	if n.c == nil {
		return boolVal(cmp(a, b))
	}
	c := n.c.eval(e)
	return boolVal(cmp(a, b) && cmp(b, c))
}
