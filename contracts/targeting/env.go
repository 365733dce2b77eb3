package targeting

// maxSteps bounds the work of one evaluation beyond the rule's own (statically bounded)
// size: every element visited by map/filter/reduce/all/some/none costs the size of the
// rule applied to it.
const maxSteps = 1 << 20

// flagdKey is the context key under which flagd injects its own properties.
const flagdKey = "$flagd"

// env is the state of one evaluation.
type env struct {
	flagKey string
	ctx     map[string]any
	ts      int64

	// scope is the data "var" reads: the context at the root, the current element
	// inside map/filter/all/none/some, {current, accumulator} inside reduce.
	scope value
	root  bool

	steps  int
	halted bool       // a custom operator failed: the whole rule is null
	err    *EvalError // evaluation failed
}

func (e *env) stopped() bool { return e.halted || e.err != nil }

// halt records a custom operator failure; flagd then resolves the rule to null.
func (e *env) halt() value {
	e.halted = true
	return null
}

func (e *env) fail(code, msg string) value {
	if e.err == nil {
		e.err = &EvalError{Code: code, Msg: msg}
	}
	return null
}

// spend charges n steps and reports whether the budget allows going on.
func (e *env) spend(n int) bool {
	e.steps += n
	if e.steps > maxSteps {
		e.fail(CodeGeneral, "targeting evaluation exceeded its step budget")
		return false
	}
	return true
}

// lookup resolves a pre-split var path in the current scope. found is false when a
// segment is missing or null.
func (e *env) lookup(path []pathSeg) (value, bool) {
	var cur any
	if e.root {
		if len(path) > 0 && path[0].key == flagdKey {
			return e.flagdProp(path[1:])
		}
		cur = e.ctx
	} else {
		if len(path) == 0 {
			return e.scope, e.scope.k != kNull
		}
		cur = e.scope.x
		if e.scope.k != kArr && e.scope.k != kObj {
			return null, false
		}
	}
	for _, seg := range path {
		switch t := cur.(type) {
		case map[string]any:
			x, ok := t[seg.key]
			if !ok {
				return null, false
			}
			cur = x
		case []any:
			if seg.idx < 0 || seg.idx >= len(t) {
				return null, false
			}
			cur = t[seg.idx]
		default:
			return null, false
		}
	}
	v, ok := fromAny(cur)
	if !ok {
		e.fail(CodeInvalidContext, "context holds a value that is not JSON")
		return null, false
	}
	return v, v.k != kNull
}

// flagdProp resolves $flagd.flagKey and $flagd.timestamp without building the object
// flagd puts into the context; only a read of $flagd itself materializes it.
func (e *env) flagdProp(rest []pathSeg) (value, bool) {
	if len(rest) == 0 {
		return objVal(e.flagdObject()), true
	}
	if len(rest) > 1 {
		return null, false
	}
	switch rest[0].key {
	case "flagKey":
		return strVal(e.flagKey), true
	case "timestamp":
		return numVal(float64(e.ts)), true
	}
	return null, false
}

func (e *env) flagdObject() map[string]any {
	return map[string]any{"flagKey": e.flagKey, "timestamp": float64(e.ts)}
}

// wholeData is {"var": ""}: the scope itself, which at the root is the context with
// $flagd injected (flagd overwrites a caller-supplied $flagd).
func (e *env) wholeData() value {
	if !e.root {
		return e.scope
	}
	m := make(map[string]any, len(e.ctx)+1)
	for k, v := range e.ctx {
		m[k] = v
	}
	m[flagdKey] = e.flagdObject()
	return objVal(m)
}

// evalIn evaluates n with data as the scope of var, as JsonLogic's array operators do.
func (e *env) evalIn(data value, n node) value {
	saved, savedRoot := e.scope, e.root
	e.scope, e.root = data, false
	v := n.eval(e)
	e.scope, e.root = saved, savedRoot
	return v
}

// targetingKey is the context's targetingKey when it is a string.
func (e *env) targetingKey() (string, bool) {
	tk, ok := e.ctx["targetingKey"].(string)
	return tk, ok
}
