package targeting

import (
	"strconv"
	"strings"
)

func operators() map[string]operator {
	return map[string]operator{
		"var":          compileVar,
		"missing":      compileMissing,
		"missing_some": compileMissingSome,
		"if":           compileIf,
		"?:":           compileIf,
		"and":          compileLogic(true),
		"or":           compileLogic(false),
		"!":            compileNot(true),
		"!!":           compileNot(false),
		"==":           compileEq(false, false),
		"!=":           compileEq(false, true),
		"===":          compileEq(true, false),
		"!==":          compileEq(true, true),
		"<":            compileCmp("<"),
		"<=":           compileCmp("<="),
		">":            compileCmp(">"),
		">=":           compileCmp(">="),
		"in":           compileIn,
		"cat":          compileCat,
		"substr":       compileSubstr,
		"+":            compileArith('+', 0, -1),
		"*":            compileArith('*', 1, -1),
		"-":            compileArith('-', 1, 2),
		"/":            compileArith('/', 2, 2),
		"%":            compileArith('%', 2, 2),
		"min":          compileMinMax(false),
		"max":          compileMinMax(true),
		"merge":        compileMerge,
		"map":          compileIter(iterMap),
		"filter":       compileIter(iterFilter),
		"all":          compileIter(iterAll),
		"none":         compileIter(iterNone),
		"some":         compileIter(iterSome),
		"reduce":       compileReduce,
		"fractional":   compileFractional,
		"sem_ver":      compileSemVer,
		"starts_with":  compileStrCmp(true),
		"ends_with":    compileStrCmp(false),
	}
}

type constNode struct{ v value }

func (n *constNode) eval(*env) value { return n.v }

// arrayNode is an array literal with operations inside; JsonLogic evaluates each element.
type arrayNode struct{ elems []node }

func (n *arrayNode) eval(e *env) value {
	out := make([]any, len(n.elems))
	for i, el := range n.elems {
		out[i] = el.eval(e).toAny()
	}
	return arrVal(out)
}

// pathSeg is one dot-separated segment of a var path; idx is its array index, or -1.
type pathSeg struct {
	key string
	idx int
}

func splitPath(p string) []pathSeg {
	parts := strings.Split(p, ".")
	segs := make([]pathSeg, len(parts))
	for i, s := range parts {
		segs[i] = pathSeg{key: s, idx: arrayIndex(s)}
	}
	return segs
}

// arrayIndex is s as an array index when JavaScript would read it as one.
func arrayIndex(s string) int {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return -1
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 {
		return -1
	}
	return i
}

// varNode reads the data: {"var": "a.b"}, {"var": ["a.b", default]}, {"var": ""}.
// A missing or null value yields the default (null without one).
type varNode struct {
	path  []pathSeg
	whole bool
	dyn   node // a computed path
	def   node
}

func compileVar(c *compiler, args []any, at argPath) (node, error) {
	if err := arity(args, at, 0, 2); err != nil {
		return nil, err
	}
	n := &varNode{whole: len(args) == 0}
	if len(args) > 0 {
		p, err := c.sub(args, 0, at)
		if err != nil {
			return nil, err
		}
		if v, ok := constOf(p); ok {
			n.setPath(v)
		} else {
			n.dyn = p
		}
	}
	if len(args) == 2 {
		d, err := c.sub(args, 1, at)
		if err != nil {
			return nil, err
		}
		n.def = d
	}
	return n, nil
}

func (n *varNode) setPath(v value) {
	s := ""
	if v.k != kNull {
		s = jsString(v)
	}
	n.whole = s == ""
	if !n.whole {
		n.path = splitPath(s)
	}
}

func (n *varNode) eval(e *env) value {
	if n.dyn != nil {
		resolved := varNode{def: n.def}
		resolved.setPath(n.dyn.eval(e))
		return resolved.eval(e)
	}
	if n.whole {
		return e.wholeData()
	}
	if v, ok := e.lookup(n.path); ok {
		return v
	}
	if n.def != nil {
		return n.def.eval(e)
	}
	return null
}

// missingNode lists the keys whose value is missing, null or "".
type missingNode struct{ keys []node }

func compileMissing(c *compiler, args []any, at argPath) (node, error) {
	keys, err := c.subs(args, at)
	if err != nil {
		return nil, err
	}
	return &missingNode{keys: keys}, nil
}

func (n *missingNode) eval(e *env) value {
	keys := make([]any, 0, len(n.keys))
	for _, k := range n.keys {
		keys = append(keys, k.eval(e).toAny())
	}
	if len(keys) > 0 {
		if first, ok := keys[0].([]any); ok { // {"missing": [["a", "b"]]} or {"missing": {"merge": ...}}
			keys = first
		}
	}
	return arrVal(missingKeys(e, keys))
}

func missingKeys(e *env, keys []any) []any {
	out := []any{}
	for _, k := range keys {
		kv, _ := fromAny(k)
		var v value
		if s := jsString(kv); s == "" {
			v = e.wholeData()
		} else {
			v, _ = e.lookup(splitPath(s))
		}
		if v.k == kNull || (v.k == kStr && v.s == "") {
			out = append(out, k)
		}
	}
	return out
}

// missingSomeNode is {"missing_some": [need, keys]}: [] when at least need keys are
// present, the missing ones otherwise.
type missingSomeNode struct{ need, keys node }

func compileMissingSome(c *compiler, args []any, at argPath) (node, error) {
	ns, err := c.subsOf(args, at, 2, 2)
	if err != nil {
		return nil, err
	}
	return &missingSomeNode{need: ns[0], keys: ns[1]}, nil
}

func (n *missingSomeNode) eval(e *env) value {
	need := toNumber(n.need.eval(e))
	keys := n.keys.eval(e).arr()
	missing := missingKeys(e, keys)
	if float64(len(keys)-len(missing)) >= need {
		return arrVal([]any{})
	}
	return arrVal(missing)
}

// ifNode is {"if": [c1, v1, c2, v2, ..., else]}; "?:" is the same.
type ifNode struct{ args []node }

func compileIf(c *compiler, args []any, at argPath) (node, error) {
	ns, err := c.subs(args, at)
	if err != nil {
		return nil, err
	}
	return &ifNode{args: ns}, nil
}

func (n *ifNode) eval(e *env) value {
	i := 0
	for ; i+1 < len(n.args); i += 2 {
		cond := n.args[i].eval(e)
		if e.stopped() {
			return null
		}
		if truthy(cond) {
			return n.args[i+1].eval(e)
		}
	}
	if i < len(n.args) {
		return n.args[i].eval(e)
	}
	return null
}

// logicNode is "and" (the first falsy argument, else the last) or "or" (the first
// truthy argument, else the last): it returns the deciding value, not a boolean.
type logicNode struct {
	and  bool
	args []node
}

func compileLogic(and bool) operator {
	return func(c *compiler, args []any, at argPath) (node, error) {
		ns, err := c.subsOf(args, at, 1, -1)
		if err != nil {
			return nil, err
		}
		return &logicNode{and: and, args: ns}, nil
	}
}

func (n *logicNode) eval(e *env) value {
	var v value
	for _, a := range n.args {
		v = a.eval(e)
		if e.stopped() {
			return null
		}
		if truthy(v) != n.and {
			return v
		}
	}
	return v
}

// notNode is "!" (negated truthiness) or "!!" (truthiness).
type notNode struct {
	arg    node
	negate bool
}

func compileNot(negate bool) operator {
	return func(c *compiler, args []any, at argPath) (node, error) {
		if err := arity(args, at, 1, 1); err != nil {
			return nil, err
		}
		a, err := c.sub(args, 0, at)
		if err != nil {
			return nil, err
		}
		return &notNode{arg: a, negate: negate}, nil
	}
}

func (n *notNode) eval(e *env) value { return boolVal(truthy(n.arg.eval(e)) != n.negate) }
