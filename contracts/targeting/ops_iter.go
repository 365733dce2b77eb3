package targeting

// iterKind selects one of JsonLogic's array operators.
type iterKind uint8

const (
	iterMap iterKind = iota
	iterFilter
	iterAll
	iterNone
	iterSome
)

// iterNode applies fn to every element of arr, with the element as the data of var.
// Each element costs the size of fn against the evaluation's step budget.
type iterNode struct {
	kind    iterKind
	arr, fn node
	cost    int
}

func compileIter(kind iterKind) operator {
	return func(c *compiler, args []any, at argPath) (node, error) {
		if err := arity(args, at, 2, 2); err != nil {
			return nil, err
		}
		arr, err := c.sub(args, 0, at)
		if err != nil {
			return nil, err
		}
		before := c.nodes
		fn, err := c.sub(args, 1, at)
		if err != nil {
			return nil, err
		}
		return &iterNode{kind: kind, arr: arr, fn: fn, cost: c.nodes - before + 1}, nil
	}
}

func (n *iterNode) eval(e *env) value {
	items := n.arr.eval(e).arr()
	var out []any
	if n.kind == iterMap || n.kind == iterFilter {
		out = make([]any, 0, len(items))
	}
	for _, it := range items {
		if !e.spend(n.cost) {
			return null
		}
		item, ok := fromAny(it)
		if !ok {
			return e.fail(CodeInvalidContext, "context holds a value that is not JSON")
		}
		v := e.evalIn(item, n.fn)
		switch n.kind {
		case iterMap:
			out = append(out, v.toAny())
		case iterFilter:
			if truthy(v) {
				out = append(out, it)
			}
		case iterAll:
			if !truthy(v) {
				return boolVal(false)
			}
		case iterNone:
			if truthy(v) {
				return boolVal(false)
			}
		case iterSome:
			if truthy(v) {
				return boolVal(true)
			}
		}
	}
	switch n.kind {
	case iterAll:
		return boolVal(len(items) > 0)
	case iterNone:
		return boolVal(true)
	case iterSome:
		return boolVal(false)
	}
	return arrVal(out)
}

// reduceNode is {"reduce": [arr, fn, initial]}; fn sees {"current", "accumulator"}.
type reduceNode struct {
	arr, fn, init node
	cost          int
}

func compileReduce(c *compiler, args []any, at argPath) (node, error) {
	if err := arity(args, at, 2, 3); err != nil {
		return nil, err
	}
	arr, err := c.sub(args, 0, at)
	if err != nil {
		return nil, err
	}
	before := c.nodes
	fn, err := c.sub(args, 1, at)
	if err != nil {
		return nil, err
	}
	n := &reduceNode{arr: arr, fn: fn, cost: c.nodes - before + 1}
	if len(args) == 3 {
		if n.init, err = c.sub(args, 2, at); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (n *reduceNode) eval(e *env) value {
	acc := null
	if n.init != nil {
		acc = n.init.eval(e)
	}
	for _, it := range n.arr.eval(e).arr() {
		if !e.spend(n.cost) {
			return null
		}
		scope := objVal(map[string]any{"current": it, "accumulator": acc.toAny()})
		acc = e.evalIn(scope, n.fn)
	}
	return acc
}
