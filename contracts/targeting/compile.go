package targeting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Limits that keep both compilation and evaluation bounded for any input.
const (
	maxDepth = 64      // nesting of operations, $ref expansion included
	maxNodes = 100_000 // operations after $ref expansion; shared evaluators count per use
)

// node is one compiled operation.
type node interface {
	eval(e *env) value
}

// operator compiles the arguments of one operation.
type operator func(c *compiler, args []any, at argPath) (node, error)

// argPath names an operation's arguments in error messages.
type argPath struct {
	op     string // e.g. "targeting.if[0].in"
	bare   bool   // the argument was given without an array: {"!": true}
	depth  int
	refsIn []string
}

func (p argPath) arg(i int) string {
	if p.bare {
		return p.op
	}
	return p.op + "[" + strconv.Itoa(i) + "]"
}

type compiler struct {
	evaluators map[string]json.RawMessage
	decoded    map[string]any // evaluators already parsed
	operators  map[string]operator
	nodes      int
}

func newCompiler(evaluators map[string]json.RawMessage) *compiler {
	return &compiler{evaluators: evaluators, decoded: map[string]any{}, operators: operators()}
}

func decodeJSON(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: data after the rule")
	}
	return doc, nil
}

func errAt(path, format string, a ...any) error {
	return &CompileError{Path: path, Msg: fmt.Sprintf(format, a...)}
}

func (c *compiler) compile(doc any, path string, depth int) (node, error) {
	return c.compileIn(doc, path, depth, nil)
}

// compileIn compiles one JSON value; refs is the chain of $evaluators being expanded.
func (c *compiler) compileIn(doc any, path string, depth int, refs []string) (node, error) {
	if depth > maxDepth {
		return nil, errAt(path, "rule is nested deeper than %d levels", maxDepth)
	}
	c.nodes++
	if c.nodes > maxNodes {
		return nil, errAt(path, "rule has more than %d operations", maxNodes)
	}
	switch t := doc.(type) {
	case map[string]any:
		return c.compileObject(t, path, depth, refs)
	case []any:
		return c.compileArray(t, path, depth, refs)
	}
	v, err := literal(doc)
	if err != nil {
		return nil, errAt(path, "%v", err)
	}
	return &constNode{v: v}, nil
}

func literal(doc any) (value, error) {
	if n, ok := doc.(json.Number); ok {
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil && !isRangeErr(err) {
			return null, fmt.Errorf("invalid number %s", n)
		}
		return numVal(f), nil
	}
	v, ok := fromAny(doc)
	if !ok {
		return null, fmt.Errorf("unsupported value %T", doc)
	}
	return v, nil
}

func (c *compiler) compileArray(items []any, path string, depth int, refs []string) (node, error) {
	elems := make([]node, len(items))
	constant := true
	for i, it := range items {
		n, err := c.compileIn(it, path+"["+strconv.Itoa(i)+"]", depth+1, refs)
		if err != nil {
			return nil, err
		}
		elems[i] = n
		if _, ok := n.(*constNode); !ok {
			constant = false
		}
	}
	if !constant {
		return &arrayNode{elems: elems}, nil
	}
	out := make([]any, len(elems))
	for i, n := range elems {
		out[i] = n.(*constNode).v.toAny()
	}
	return &constNode{v: arrVal(out)}, nil
}

func (c *compiler) compileObject(m map[string]any, path string, depth int, refs []string) (node, error) {
	if len(m) == 0 {
		return &constNode{v: objVal(map[string]any{})}, nil
	}
	if len(m) > 1 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, errAt(path, "an operation has exactly one key, got %q", keys)
	}
	var name string
	var raw any
	for name, raw = range m {
	}
	if name == "$ref" {
		return c.compileRef(raw, path, depth, refs)
	}
	op, ok := c.operators[name]
	if !ok {
		return nil, errAt(path+"."+name, "unknown operator %q", name)
	}
	args, isArray := raw.([]any)
	if !isArray {
		args = []any{raw}
	}
	return op(c, args, argPath{op: path + "." + name, bare: !isArray, depth: depth, refsIn: refs})
}

func (c *compiler) compileRef(raw any, path string, depth int, refs []string) (node, error) {
	name, ok := raw.(string)
	if !ok {
		return nil, errAt(path+".$ref", "$ref must name an evaluator, got %s", describe(raw))
	}
	for i, r := range refs {
		if r == name {
			cycle := append(append([]string{}, refs[i:]...), name)
			return nil, errAt(path+".$ref", "$ref cycle: %s", strings.Join(cycle, " -> "))
		}
	}
	src, ok := c.evaluators[name]
	if !ok {
		return nil, errAt(path+".$ref", "$ref to missing evaluator %q", name)
	}
	evPath := "$evaluators." + name
	doc, seen := c.decoded[name]
	if !seen {
		var err error
		if doc, err = decodeJSON(src); err != nil {
			return nil, errAt(evPath, "%v", err)
		}
		if isEmptyRule(doc) {
			return nil, errAt(evPath, "evaluator is empty")
		}
		c.decoded[name] = doc
	}
	return c.compileIn(doc, evPath, depth+1, append(refs[:len(refs):len(refs)], name))
}

// sub compiles argument i of an operation.
func (c *compiler) sub(args []any, i int, at argPath) (node, error) {
	return c.compileIn(args[i], at.arg(i), at.depth+1, at.refsIn)
}

// subs compiles all arguments of an operation.
func (c *compiler) subs(args []any, at argPath) ([]node, error) {
	out := make([]node, len(args))
	for i := range args {
		n, err := c.sub(args, i, at)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// subsOf checks that an operation has lo to hi arguments (hi < 0: no upper bound) and
// compiles them.
func (c *compiler) subsOf(args []any, at argPath, lo, hi int) ([]node, error) {
	if err := arity(args, at, lo, hi); err != nil {
		return nil, err
	}
	return c.subs(args, at)
}

func arity(args []any, at argPath, lo, hi int) error {
	n := len(args)
	if n >= lo && (hi < 0 || n <= hi) {
		return nil
	}
	name := at.op[strings.LastIndexByte(at.op, '.')+1:]
	switch {
	case hi < 0:
		return errAt(at.op, "%s takes at least %d arguments, got %d", name, lo, n)
	case lo == hi:
		return errAt(at.op, "%s takes %d arguments, got %d", name, lo, n)
	}
	return errAt(at.op, "%s takes %d to %d arguments, got %d", name, lo, hi, n)
}

func describe(raw any) string {
	switch t := raw.(type) {
	case string:
		return strconv.Quote(t)
	case nil:
		return "null"
	case json.Number:
		return t.String()
	case float64:
		return jsNumberString(t)
	case bool:
		return strconv.FormatBool(t)
	case []any:
		return "an array"
	}
	return "an object"
}

// constOf returns the literal value of n when it is a constant.
func constOf(n node) (value, bool) {
	if k, ok := n.(*constNode); ok {
		return k.v, true
	}
	return null, false
}
