package targeting

import (
	"encoding/json"
	"math"
	"strconv"
)

// kind is the JSON type of a value.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNum
	kStr
	kArr // x holds []any
	kObj // x holds map[string]any
)

// value is one JSON value as the evaluator sees it. Scalars live in fields; arrays and
// objects keep the caller's decoded JSON (x) so that reading the context never copies
// or boxes anything.
type value struct {
	k kind
	n float64 // a number, or 1/0 for a boolean
	s string
	x any
}

var null = value{}

func boolVal(b bool) value          { return value{k: kBool, n: boolNum(b)} }
func numVal(n float64) value        { return value{k: kNum, n: n} }
func strVal(s string) value         { return value{k: kStr, s: s} }
func arrVal(a []any) value          { return value{k: kArr, x: a} }
func objVal(m map[string]any) value { return value{k: kObj, x: m} }

// flag is the value of a boolean.
func (v value) flag() bool { return v.n != 0 }

func (v value) arr() []any          { a, _ := v.x.([]any); return a }
func (v value) obj() map[string]any { m, _ := v.x.(map[string]any); return m }

// fromAny converts one decoded JSON value (from the caller's context or from a rule
// literal) without allocating. ok is false for Go types that are not JSON.
func fromAny(x any) (value, bool) {
	switch t := x.(type) {
	case nil:
		return null, true
	case string:
		return strVal(t), true
	case float64:
		return numVal(t), true
	case bool:
		return boolVal(t), true
	case map[string]any:
		return value{k: kObj, x: x}, true
	case []any:
		return value{k: kArr, x: x}, true
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !isRangeErr(err) {
			return null, false
		}
		return numVal(f), true
	case int:
		return numVal(float64(t)), true
	case int64:
		return numVal(float64(t)), true
	case int32:
		return numVal(float64(t)), true
	case uint:
		return numVal(float64(t)), true
	case uint64:
		return numVal(float64(t)), true
	case uint32:
		return numVal(float64(t)), true
	case float32:
		return numVal(float64(t)), true
	}
	return null, false
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// toAny is the inverse of fromAny, used only where the evaluator builds new arrays.
func (v value) toAny() any {
	switch v.k {
	case kBool:
		return v.flag()
	case kNum:
		return v.n
	case kStr:
		return v.s
	case kArr, kObj:
		return v.x
	}
	return nil
}

// truthy is JsonLogic truthiness: JavaScript's, except that an empty array is falsy.
// "0" and empty objects are truthy.
func truthy(v value) bool {
	switch v.k {
	case kBool:
		return v.flag()
	case kNum:
		return v.n != 0 && !math.IsNaN(v.n)
	case kStr:
		return v.s != ""
	case kArr:
		return len(v.arr()) > 0
	case kObj:
		return true
	}
	return false
}

// looseEq is JavaScript's == restricted to JSON types. Arrays and objects are compared
// by identity in JavaScript, which two JSON values never share, so they are unequal to
// each other and compared to scalars through their string form.
func looseEq(a, b value) bool {
	if a.k == b.k {
		return strictEq(a, b) // between values of one type, == is ===
	}
	if a.k == kNull || b.k == kNull {
		return false
	}
	switch {
	case a.k == kNum && b.k == kStr:
		return a.n == strToNumber(b.s)
	case a.k == kStr && b.k == kNum:
		return strToNumber(a.s) == b.n
	case a.k == kBool:
		return looseEq(numVal(boolNum(a.flag())), b)
	case b.k == kBool:
		return looseEq(a, numVal(boolNum(b.flag())))
	case (a.k == kArr || a.k == kObj) && (b.k == kNum || b.k == kStr):
		return looseEq(strVal(jsString(a)), b)
	case (b.k == kArr || b.k == kObj) && (a.k == kNum || a.k == kStr):
		return looseEq(a, strVal(jsString(b)))
	}
	return false
}

// strictEq is JavaScript's ===: same type and same value; arrays and objects never.
func strictEq(a, b value) bool {
	if a.k != b.k {
		return false
	}
	switch a.k {
	case kNull:
		return true
	case kBool:
		return a.flag() == b.flag()
	case kNum:
		return a.n == b.n
	case kStr:
		return a.s == b.s
	}
	return false
}

func boolNum(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// toNumber is JavaScript's Number(x).
func toNumber(v value) float64 {
	switch v.k {
	case kNull:
		return 0
	case kBool:
		return boolNum(v.flag())
	case kNum:
		return v.n
	case kStr:
		return strToNumber(v.s)
	}
	return strToNumber(jsString(v))
}

// primitive is JavaScript's ToPrimitive: arrays and objects become their string form.
func primitive(v value) value {
	if v.k == kArr || v.k == kObj {
		return strVal(jsString(v))
	}
	return v
}

// less is JavaScript's abstract relational comparison a < b; ok is false when either
// side is NaN (JavaScript's undefined), which makes every comparison false.
func less(a, b value) (lt, ok bool) {
	a, b = primitive(a), primitive(b)
	if a.k == kStr && b.k == kStr {
		return a.s < b.s, true
	}
	x, y := toNumber(a), toNumber(b)
	if math.IsNaN(x) || math.IsNaN(y) {
		return false, false
	}
	return x < y, true
}

func lessThan(a, b value) bool {
	lt, _ := less(a, b)
	return lt
}

// lessEq is JavaScript's a <= b: not (b < a), and false when undefined.
func lessEq(a, b value) bool {
	gt, ok := less(b, a)
	return ok && !gt
}
