package targeting

import (
	"math"
	"strings"
)

// semVerOps lists sem_ver's operators; ~ matches major.minor, ^ matches major.
const semVerOps = "= != < <= > >= ~ ^"

func isSemVerOp(s string) bool {
	switch s {
	case "=", "!=", "<", "<=", ">", ">=", "~", "^":
		return true
	}
	return false
}

// version is a parsed semantic version. Numeric parts stay decimal strings (no leading
// zeros), compared by length then lexically, so that no size overflows.
type version struct {
	major, minor, patch string
	pre                 string // dot-separated prerelease identifiers, "" for a release
}

// parseVersion accepts what flagd's sem_ver accepts: SemVer 2.0.0 with an optional v/V
// prefix, the shorthands "1" and "1.2" (meaning 1.0.0 and 1.2.0, and then without
// prerelease or build), and build metadata, which comparisons ignore.
func parseVersion(s string) (version, bool) {
	if s != "" && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	var v version
	var ok bool
	if v.major, s, ok = numericPart(s); !ok {
		return v, false
	}
	v.minor, v.patch = "0", "0"
	if s == "" {
		return v, true
	}
	if s[0] != '.' {
		return v, false
	}
	if v.minor, s, ok = numericPart(s[1:]); !ok {
		return v, false
	}
	if s == "" {
		return v, true
	}
	if s[0] != '.' {
		return v, false
	}
	if v.patch, s, ok = numericPart(s[1:]); !ok {
		return v, false
	}
	if s != "" && s[0] == '-' {
		end := strings.IndexByte(s, '+')
		if end < 0 {
			end = len(s)
		}
		v.pre, s = s[1:end], s[end:]
		if !validIdents(v.pre, true) {
			return v, false
		}
	}
	if s != "" && s[0] == '+' {
		if !validIdents(s[1:], false) {
			return v, false
		}
		s = ""
	}
	return v, s == ""
}

func numericPart(s string) (num, rest string, ok bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || (i > 1 && s[0] == '0') {
		return "", s, false
	}
	return s[:i], s[i:], true
}

func validIdents(s string, prerelease bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		numeric := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !isDigit(c) && c != '-' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') {
				return false
			}
			numeric = numeric && isDigit(c)
		}
		if prerelease && numeric && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

func cmpNum(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// compareVersions orders by SemVer precedence.
func compareVersions(a, b version) int {
	if c := cmpNum(a.major, b.major); c != 0 {
		return c
	}
	if c := cmpNum(a.minor, b.minor); c != 0 {
		return c
	}
	if c := cmpNum(a.patch, b.patch); c != 0 {
		return c
	}
	switch {
	case a.pre == b.pre:
		return 0
	case a.pre == "":
		return 1
	case b.pre == "":
		return -1
	}
	as, bs := strings.Split(a.pre, "."), strings.Split(b.pre, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if c := cmpIdent(as[i], bs[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(as) < len(bs):
		return -1
	case len(as) > len(bs):
		return 1
	}
	return 0
}

func cmpIdent(a, b string) int {
	an, bn := allDigits(a), allDigits(b)
	switch {
	case an && bn:
		return cmpNum(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func semVerMatch(a version, op string, b version) bool {
	switch op {
	case "~":
		return cmpNum(a.major, b.major) == 0 && cmpNum(a.minor, b.minor) == 0
	case "^":
		return cmpNum(a.major, b.major) == 0
	}
	c := compareVersions(a, b)
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0 // ">="
}

// versionOf reads a sem_ver operand: a version string, or a number such as 1.2 (read
// as "1.2", i.e. 1.2.0) as flagd accepts numeric context values.
func versionOf(v value) (version, bool) {
	switch v.k {
	case kStr:
		return parseVersion(v.s)
	case kNum:
		if math.IsNaN(v.n) || math.IsInf(v.n, 0) {
			return version{}, false
		}
		return parseVersion(jsNumberString(v.n))
	}
	return version{}, false
}

// semVerNode is {"sem_ver": [version, operator, version]}. An operand that is not a
// version makes the whole rule null, as flagd does.
type semVerNode struct {
	a, op, b node
	opLit    string
	aLit     *version // a literal operand, parsed once
	bLit     *version
}

func compileSemVer(c *compiler, args []any, at argPath) (node, error) {
	ns, err := c.subsOf(args, at, 3, 3)
	if err != nil {
		return nil, err
	}
	n := &semVerNode{a: ns[0], op: ns[1], b: ns[2]}
	if v, ok := constOf(n.op); ok {
		if v.k != kStr || !isSemVerOp(v.s) {
			return nil, errAt(at.arg(1), "sem_ver operator must be one of %s, got %s", semVerOps, describe(v.toAny()))
		}
		n.opLit = v.s
	}
	n.aLit, n.bLit = literalVersion(n.a), literalVersion(n.b)
	return n, nil
}

func literalVersion(n node) *version {
	if v, ok := constOf(n); ok {
		if ver, ok := versionOf(v); ok {
			return &ver
		}
	}
	return nil
}

func operand(e *env, n node, lit *version) (version, bool) {
	if lit != nil {
		return *lit, true
	}
	return versionOf(n.eval(e))
}

func (n *semVerNode) eval(e *env) value {
	a, aok := operand(e, n.a, n.aLit)
	op := n.opLit
	if op == "" {
		v := n.op.eval(e)
		if v.k != kStr || !isSemVerOp(v.s) {
			return e.halt()
		}
		op = v.s
	}
	b, bok := operand(e, n.b, n.bLit)
	if !aok || !bok {
		return e.halt()
	}
	return boolVal(semVerMatch(a, op, b))
}
