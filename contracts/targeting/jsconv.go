package targeting

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// JsonLogic is defined by its JavaScript reference implementation, so string and number
// conversions follow ECMAScript: String(x), Number(x) and parseFloat(x).

// jsString is JavaScript's String(x) for JSON values.
func jsString(v value) string {
	if v.k == kStr {
		return v.s
	}
	return string(appendJSString(nil, v))
}

// maxJoinDepth bounds how deep String() follows nested arrays; JSON from a decoder
// never nests that far, and a cyclic array built in Go would otherwise never end.
const maxJoinDepth = 128

func appendJSString(dst []byte, v value) []byte { return appendJS(dst, v, 0) }

func appendJS(dst []byte, v value, depth int) []byte {
	switch v.k {
	case kNull:
		return append(dst, "null"...)
	case kBool:
		return strconv.AppendBool(dst, v.flag())
	case kNum:
		return appendJSNumber(dst, v.n)
	case kStr:
		return append(dst, v.s...)
	case kObj:
		return append(dst, "[object Object]"...)
	}
	if depth >= maxJoinDepth {
		return dst
	}
	for i, e := range v.arr() {
		if i > 0 {
			dst = append(dst, ',')
		}
		ev, _ := fromAny(e)
		if ev.k != kNull { // Array.prototype.join writes null as ""
			dst = appendJS(dst, ev, depth+1)
		}
	}
	return dst
}

// appendJSNumber formats f as Number.prototype.toString does: plain digits up to 1e21,
// the shortest round-tripping representation, exponent form outside [1e-7, 1e21).
func appendJSNumber(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		return append(dst, '0')
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d[.ddd]e±xx
	mant, exp := e, 0
	if i := indexByte(e, 'e'); i >= 0 {
		mant = e[:i]
		x, _ := strconv.Atoi(string(e[i+1:]))
		exp = x
	}
	var digits [24]byte
	k := 0
	for _, c := range mant {
		if c != '.' {
			digits[k] = c
			k++
		}
	}
	d := digits[:k]
	n := exp + 1 // position of the decimal point relative to the digits
	switch {
	case k <= n && n <= 21:
		dst = append(dst, d...)
		for i := k; i < n; i++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, d[:n]...)
		dst = append(dst, '.')
		dst = append(dst, d[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, "0."...)
		for i := 0; i < -n; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, d...)
	default:
		dst = append(dst, d[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func jsNumberString(f float64) string { return string(appendJSNumber(nil, f)) }

func isJSSpace(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' }

// strToNumber is JavaScript's Number(string): whitespace is trimmed, "" is 0, decimal
// literals, Infinity and 0x/0o/0b integers are numbers, everything else is NaN.
func strToNumber(s string) float64 {
	s = strings.TrimFunc(s, isJSSpace)
	if s == "" {
		return 0
	}
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			return radixNumber(s[2:], 16)
		case 'o', 'O':
			return radixNumber(s[2:], 8)
		case 'b', 'B':
			return radixNumber(s[2:], 2)
		}
	}
	n := decimalPrefix(s)
	if n != len(s) {
		return math.NaN()
	}
	return parseDecimal(s)
}

func radixNumber(s string, base int) float64 {
	if s == "" {
		return math.NaN()
	}
	f := 0.0
	for _, c := range s {
		d := digitVal(c)
		if d < 0 || d >= base {
			return math.NaN()
		}
		f = f*float64(base) + float64(d)
	}
	return f
}

func digitVal(c rune) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// decimalPrefix returns the length of the longest prefix of s that is a JavaScript
// StrDecimalLiteral ([+-] digits [. digits] [e [+-] digits], or [+-]Infinity), 0 if none.
func decimalPrefix(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		return i + len("Infinity")
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intDigits := i - start
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		fracDigits = j - i - 1
		if intDigits > 0 || fracDigits > 0 {
			i = j
		}
	}
	if intDigits == 0 && fracDigits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j {
			i = k
		}
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func parseDecimal(s string) float64 {
	switch strings.TrimLeft(s, "+-") {
	case "Infinity":
		if s[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return math.NaN()
	}
	return f
}

// parseFloatJS is JavaScript's parseFloat(x), which JsonLogic's "+" and "*" use: the
// longest decimal prefix of String(x) after leading whitespace, NaN if there is none.
func parseFloatJS(v value) float64 {
	if v.k == kNum {
		return v.n
	}
	s := strings.TrimLeftFunc(jsString(v), isJSSpace)
	n := decimalPrefix(s)
	if n == 0 {
		return math.NaN()
	}
	return parseDecimal(s[:n])
}
