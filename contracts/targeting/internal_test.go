package targeting

import (
	"math"
	"testing"
)

func TestMurmur3(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
	}{
		{"", 0},
		{"a", 0x3c2569b2},
		{"abc", 0xb3dd93fa},
		{"Hello, world!", 0xc0363e43},
		{"The quick brown fox jumps over the lazy dog", 0x2e4ff723},
		// flagd-testbed's fractional hash edge vectors.
		{"ejOoVL", 0},
		{"bY9fO-", 1},
		{"SI7p-", 2147483647},
		{"6LvT0", 2147483648},
		{"ceQdGm", 4294967295},
	} {
		if got := murmur3String(tc.in); got != tc.want {
			t.Errorf("murmur3(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
		// Fed in pieces, as fractional hashes flagKey+targetingKey and cat parts.
		for cut := 0; cut <= len(tc.in); cut++ {
			var m murmur3
			m.writeString(tc.in[:cut])
			m.writeBytes([]byte(tc.in[cut:]))
			if got := m.sum(); got != tc.want {
				t.Errorf("murmur3(%q | %q) = %#x, want %#x", tc.in[:cut], tc.in[cut:], got, tc.want)
			}
		}
	}
}

func TestJSNumberString(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1.5, "-1.5"}, {0.1, "0.1"},
		{123456789012, "123456789012"}, {1e20, "100000000000000000000"}, {1e21, "1e+21"},
		{1.5e21, "1.5e+21"}, {1e-6, "0.000001"}, {1e-7, "1e-7"}, {1.25e-7, "1.25e-7"},
		{math.MaxFloat64, "1.7976931348623157e+308"}, {5e-324, "5e-324"},
		{math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"},
		{2147483647, "2147483647"}, {9007199254740991, "9007199254740991"},
	} {
		if got := jsNumberString(tc.in); got != tc.want {
			t.Errorf("jsNumberString(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStrToNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{"", 0}, {"  ", 0}, {"42", 42}, {" 4.5 ", 4.5}, {"-1e3", -1000}, {".5", 0.5}, {"5.", 5},
		{"0x1f", 31}, {"0b101", 5}, {"0o17", 15}, {"Infinity", math.Inf(1)}, {"-Infinity", math.Inf(-1)},
		{"1e400", math.Inf(1)},
	} {
		if got := strToNumber(tc.in); got != tc.want {
			t.Errorf("Number(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"abc", "1a", "inf", "NaN", "0x", "1_000", "--1", "+-1", "1e", "0x1g", "."} {
		if got := strToNumber(in); !math.IsNaN(got) {
			t.Errorf("Number(%q) = %v, want NaN", in, got)
		}
	}
	for _, tc := range []struct {
		in   value
		want float64
	}{
		{strVal("12abc"), 12}, {strVal("  -3.5e1x"), -35}, {strVal("Infinityx"), math.Inf(1)},
		{arrVal([]any{1.0, 2.0}), 1}, {numVal(7), 7}, {strVal("0x10z"), 0},
	} {
		if got := parseFloatJS(tc.in); got != tc.want {
			t.Errorf("parseFloat(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, in := range []value{strVal(""), strVal("x1"), null, boolVal(true)} {
		if got := parseFloatJS(in); !math.IsNaN(got) {
			t.Errorf("parseFloat(%v) = %v, want NaN", in, got)
		}
	}
}

func TestParseVersion(t *testing.T) {
	valid := []string{
		"1.2.3", "v1.2.3", "V1.2.3", "0.0.0", "1", "1.2", "v2", "1.0.0-alpha", "1.0.0-alpha.1",
		"1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0+build", "1.0.0-rc.1+build.01", "10.20.30",
		"1.0.0-x-y-z.--", "99999999999999999999.0.0",
	}
	invalid := []string{
		"", "v", "a.b.c", "1.2.3.4", "01.0.0", "1.02.0", "1.0.03", "1.0.0-", "1.0.0+", "1.0.0-01",
		"1.0.0-a..b", "1.2-pre", "1+build", "1.0.0-é", " 1.0.0", "1.0.0 ", "vv1.0.0", "-1.0.0",
	}
	for _, s := range valid {
		if _, ok := parseVersion(s); !ok {
			t.Errorf("parseVersion(%q) rejected", s)
		}
	}
	for _, s := range invalid {
		if _, ok := parseVersion(s); ok {
			t.Errorf("parseVersion(%q) accepted", s)
		}
	}
	// SemVer 2.0.0 §11's precedence example, in ascending order.
	order := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1", "2", "2.0.1", "10.0.0"}
	for i := range order {
		for j := range order {
			a, _ := parseVersion(order[i])
			b, _ := parseVersion(order[j])
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := compareVersions(a, b); got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	a, _ := parseVersion("1.0.0+a")
	b, _ := parseVersion("1.0.0+b")
	if compareVersions(a, b) != 0 {
		t.Error("build metadata must not affect precedence")
	}
}
