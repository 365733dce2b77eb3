package targeting

import (
	"math"
	"strings"
	"unicode/utf16"
)

// inSetMin is the literal array size from which "in" looks strings up in a set.
const inSetMin = 8

// inNode is {"in": [a, b]}: substring when b is a string, strict membership when b is
// an array, false otherwise.
type inNode struct {
	a, b node
	set  map[string]struct{} // b is a literal array of strings
}

func compileIn(c *compiler, args []any, at argPath) (node, error) {
	ns, err := c.subsOf(args, at, 2, 2)
	if err != nil {
		return nil, err
	}
	n := &inNode{a: ns[0], b: ns[1]}
	if v, ok := constOf(n.b); ok && v.k == kArr && len(v.arr()) >= inSetMin {
		n.set = stringSet(v.arr())
	}
	return n, nil
}

func stringSet(items []any) map[string]struct{} {
	set := make(map[string]struct{}, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil
		}
		set[s] = struct{}{}
	}
	return set
}

func (n *inNode) eval(e *env) value {
	a := n.a.eval(e)
	if n.set != nil {
		if a.k != kStr {
			return boolVal(false)
		}
		_, ok := n.set[a.s]
		return boolVal(ok)
	}
	b := n.b.eval(e)
	switch b.k {
	case kStr:
		return boolVal(strings.Contains(b.s, jsString(a)))
	case kArr:
		for _, it := range b.arr() {
			if v, _ := fromAny(it); strictEq(a, v) {
				return boolVal(true)
			}
		}
	}
	return boolVal(false)
}

// catNode concatenates the string forms of its arguments.
type catNode struct{ args []node }

func compileCat(c *compiler, args []any, at argPath) (node, error) {
	ns, err := c.subs(args, at)
	if err != nil {
		return nil, err
	}
	return &catNode{args: ns}, nil
}

func (n *catNode) eval(e *env) value {
	if len(n.args) == 1 {
		return strVal(jsString(n.args[0].eval(e)))
	}
	var buf []byte
	for _, a := range n.args {
		buf = appendJSString(buf, a.eval(e))
	}
	return strVal(string(buf))
}

// substrNode is {"substr": [s, start, length]}: JavaScript's String.prototype.substr on
// UTF-16 code units; a negative length drops that many units from the end.
type substrNode struct{ src, start, length node }

func compileSubstr(c *compiler, args []any, at argPath) (node, error) {
	ns, err := c.subsOf(args, at, 2, 3)
	if err != nil {
		return nil, err
	}
	n := &substrNode{src: ns[0], start: ns[1]}
	if len(ns) == 3 {
		n.length = ns[2]
	}
	return n, nil
}

func (n *substrNode) eval(e *env) value {
	s := jsString(n.src.eval(e))
	start := toNumber(n.start.eval(e))
	if n.length == nil {
		return strVal(jsSubstr(s, start, math.Inf(1)))
	}
	length := toNumber(n.length.eval(e))
	if length < 0 {
		rest := jsSubstr(s, start, math.Inf(1))
		return strVal(jsSubstr(rest, 0, float64(utf16Len(rest))+length))
	}
	return strVal(jsSubstr(s, start, length))
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func jsSubstr(s string, start, length float64) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		i, j := substrBounds(len(s), start, length)
		return s[i:j]
	}
	units := utf16.Encode([]rune(s))
	i, j := substrBounds(len(units), start, length)
	return string(utf16.Decode(units[i:j]))
}

// substrBounds applies substr's ToIntegerOrInfinity and clamping rules.
func substrBounds(size int, start, length float64) (int, int) {
	st := toInteger(start)
	switch {
	case st < 0:
		st = math.Max(float64(size)+st, 0)
	default:
		st = math.Min(st, float64(size))
	}
	end := math.Min(st+math.Max(toInteger(length), 0), float64(size))
	if st >= end {
		return 0, 0
	}
	return int(st), int(end)
}

func toInteger(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return math.Trunc(f)
}

// arithNode is +, -, *, / or %. + and * read their arguments with parseFloat, the
// others with Number(), as JsonLogic's reference implementation does.
type arithNode struct {
	op   byte
	args []node
}

func compileArith(op byte, lo, hi int) operator {
	return func(c *compiler, args []any, at argPath) (node, error) {
		ns, err := c.subsOf(args, at, lo, hi)
		if err != nil {
			return nil, err
		}
		return &arithNode{op: op, args: ns}, nil
	}
}

func (n *arithNode) eval(e *env) value {
	switch n.op {
	case '+':
		sum := 0.0
		for _, a := range n.args {
			sum += parseFloatJS(a.eval(e))
		}
		return numVal(sum)
	case '*':
		prod := 1.0
		for _, a := range n.args {
			prod *= parseFloatJS(a.eval(e))
		}
		return numVal(prod)
	case '-':
		a := toNumber(n.args[0].eval(e))
		if len(n.args) == 1 {
			return numVal(-a)
		}
		return numVal(a - toNumber(n.args[1].eval(e)))
	}
	a, b := toNumber(n.args[0].eval(e)), toNumber(n.args[1].eval(e))
	if n.op == '/' {
		return numVal(a / b)
	}
	return numVal(math.Mod(a, b))
}

// minMaxNode is Math.min / Math.max over Number() of the arguments.
type minMaxNode struct {
	max  bool
	args []node
}

func compileMinMax(isMax bool) operator {
	return func(c *compiler, args []any, at argPath) (node, error) {
		ns, err := c.subsOf(args, at, 1, -1)
		if err != nil {
			return nil, err
		}
		return &minMaxNode{max: isMax, args: ns}, nil
	}
}

func (n *minMaxNode) eval(e *env) value {
	best := toNumber(n.args[0].eval(e))
	for _, a := range n.args[1:] {
		x := toNumber(a.eval(e))
		switch {
		case math.IsNaN(x) || math.IsNaN(best):
			best = math.NaN()
		case n.max && x > best, !n.max && x < best:
			best = x
		}
	}
	return numVal(best)
}

// mergeNode flattens its arguments one level into one array.
type mergeNode struct{ args []node }

func compileMerge(c *compiler, args []any, at argPath) (node, error) {
	ns, err := c.subs(args, at)
	if err != nil {
		return nil, err
	}
	return &mergeNode{args: ns}, nil
}

func (n *mergeNode) eval(e *env) value {
	out := []any{}
	for _, a := range n.args {
		v := a.eval(e)
		if v.k == kArr {
			items := v.arr()
			if !e.spend(len(items)) {
				return null
			}
			out = append(out, items...)
			continue
		}
		out = append(out, v.toAny())
	}
	return arrVal(out)
}
