package targeting_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/contracts/targeting"
)

const distributionKeys = 100_000

func assign(t *testing.T, rule string, flagKey string, n int) []string {
	t.Helper()
	r, err := targeting.Compile(json.RawMessage(rule), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, n)
	for i := range out {
		res, err := r.Evaluate(targeting.Input{FlagKey: flagKey, Context: map[string]any{"targetingKey": fmt.Sprintf("user-%d", i)}})
		if err != nil || res.Outcome != targeting.Match {
			t.Fatalf("key %d: %+v, %v", i, res, err)
		}
		out[i] = res.Variant
	}
	return out
}

// chiSquare is Pearson's statistic of observed counts against expected shares.
func chiSquare(got []string, weights map[string]float64) float64 {
	counts := map[string]int{}
	for _, v := range got {
		counts[v]++
	}
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x2 := 0.0
	for name, w := range weights {
		exp := float64(len(got)) * w / total
		d := float64(counts[name]) - exp
		x2 += d * d / exp
	}
	return x2
}

func TestFractionalDistribution(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rule    string
		weights map[string]float64
		limit   float64 // chi-square critical value at p = 0.001 for len(weights)-1 degrees of freedom
	}{
		{"50/50", `{"fractional": [["a", 50], ["b", 50]]}`, map[string]float64{"a": 50, "b": 50}, 10.83},
		{"10/20/70", `{"fractional": [["a", 10], ["b", 20], ["c", 70]]}`, map[string]float64{"a": 10, "b": 20, "c": 70}, 13.82},
		{"default weight 1", `{"fractional": [["a"], ["b"], ["c"], ["d"]]}`, map[string]float64{"a": 1, "b": 1, "c": 1, "d": 1}, 16.27},
		{"1 in 1000", `{"fractional": [["rare", 1], ["common", 999]]}`, map[string]float64{"rare": 1, "common": 999}, 10.83},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := assign(t, tc.rule, "distribution-flag", distributionKeys)
			if x2 := chiSquare(got, tc.weights); x2 > tc.limit {
				t.Errorf("chi-square = %.2f, above %.2f", x2, tc.limit)
			}
			for _, v := range got {
				if _, ok := tc.weights[v]; !ok {
					t.Fatalf("unexpected variant %q", v)
				}
			}
		})
	}
}

// The chi-square test above must be able to fail: a skewed expectation is rejected.
func TestChiSquareDetectsSkew(t *testing.T) {
	got := assign(t, `{"fractional": [["a", 50], ["b", 50]]}`, "distribution-flag", distributionKeys)
	if x2 := chiSquare(got, map[string]float64{"a": 52, "b": 48}); x2 < 10.83 {
		t.Fatalf("chi-square = %.2f for a 52/48 expectation of a 50/50 split; the test would not notice skew", x2)
	}
}

func TestFractionalStickiness(t *testing.T) {
	first := assign(t, `{"fractional": [["a", 50], ["b", 50]]}`, "sticky-flag", 10_000)
	again := assign(t, `{"fractional": [["a", 50], ["b", 50]]}`, "sticky-flag", 10_000)
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("key %d moved from %s to %s between identical evaluations", i, first[i], again[i])
		}
	}
	other := assign(t, `{"fractional": [["a", 50], ["b", 50]]}`, "other-flag", 10_000)
	same := 0
	for i := range first {
		if first[i] == other[i] {
			same++
		}
	}
	if same < 4_500 || same > 5_500 {
		t.Errorf("%d of 10000 keys agree across two flags; the flag key must reshuffle buckets", same)
	}
}

// Appending a bucket [c, 10] to [a, 50], [b, 50] rescales the hash space to 110 parts:
// a keeps [0, 50/110), b moves to [50/110, 100/110), c takes the rest. Exactly the keys
// in [50/110, 1/2) move from a to b and those in [100/110, 1) from b to c.
func TestFractionalAppendBucketMovesOnlyExpectedShare(t *testing.T) {
	before := assign(t, `{"fractional": [["a", 50], ["b", 50]]}`, "grow-flag", distributionKeys)
	after := assign(t, `{"fractional": [["a", 50], ["b", 50], ["c", 10]]}`, "grow-flag", distributionKeys)
	moves := map[string]int{}
	for i := range before {
		if before[i] != after[i] {
			moves[before[i]+"->"+after[i]]++
		}
	}
	for move := range moves {
		if move != "a->b" && move != "b->c" {
			t.Errorf("%d keys moved %s; only a->b and b->c are possible", moves[move], move)
		}
	}
	for move, share := range map[string]float64{"a->b": 0.5 - 50.0/110, "b->c": 1 - 100.0/110} {
		got := float64(moves[move]) / distributionKeys
		if got < share-0.005 || got > share+0.005 {
			t.Errorf("%s moved %.4f of keys, want %.4f ± 0.005", move, got, share)
		}
	}
}

func TestFractionalBucketing(t *testing.T) {
	withKey := func(tk string) map[string]any { return map[string]any{"targetingKey": tk} }
	runCases(t, []opCase{
		// "SI7p-" hashes to 2^31-1 and "6LvT0" to exactly 2^31: the halves meet between them.
		{"hash just below the midpoint", `{"fractional": [{"var": "targetingKey"}, ["lower", 50], ["upper", 50]]}`, withKey("SI7p-"), "lower"},
		{"hash at the midpoint", `{"fractional": [{"var": "targetingKey"}, ["lower", 50], ["upper", 50]]}`, withKey("6LvT0"), "upper"},
		{"hash at the top", `{"fractional": [{"var": "targetingKey"}, ["a", 1], ["b", 2147483646]]}`, withKey("ceQdGm"), "b"},
		{"hash zero", `{"fractional": [{"var": "targetingKey"}, ["a", 1], ["b", 2147483646]]}`, withKey("ejOoVL"), "a"},
		{"no targeting key", `{"fractional": [["a", 50], ["b", 50]]}`, nil, noMatch},
		{"targeting key not a string", `{"fractional": [["a", 50], ["b", 50]]}`, map[string]any{"targetingKey": 1.0}, noMatch},
		{"empty targeting key is a key", `{"fractional": [["a", 1]]}`, withKey(""), "a"},
		{"null bucketing value falls back to the targeting key", `{"fractional": [{"var": "nope"}, ["a", 1]]}`, withKey("k"), "a"},
		{"literal null bucketing value", `{"fractional": [null, ["a", 1]]}`, withKey("k"), "a"},
		{"non-string bucketing value", `{"fractional": [{"var": "n"}, ["a", 1]]}`, map[string]any{"n": 1.0}, noMatch},
		{"boolean variant", `{"fractional": [[true, 1]]}`, withKey("k"), "true"},
		{"number variant", `{"fractional": [[3, 1]]}`, withKey("k"), "3"},
		{"null variant", `{"fractional": [[null, 1]]}`, withKey("k"), noMatch},
		{"null weight is 1", `{"fractional": [["a", null]]}`, withKey("k"), "a"},
		{"computed weight not an integer", `{"fractional": [["a", {"/": [1, 2]}]]}`, withKey("k"), noMatch},
		{"computed weight not a number", `{"fractional": [["a", {"cat": ["1"]}]]}`, withKey("k"), noMatch},
		{"computed weight null is 1", `{"fractional": [["a", {"var": "w"}]]}`, withKey("k"), "a"},
		{"computed weights too large", `{"fractional": [["a", {"var": "w"}], ["b", {"var": "w"}]]}`, map[string]any{"targetingKey": "k", "w": 2e9}, noMatch},
		{"all weights zero", `{"fractional": [["a", 0], ["b", 0]]}`, withKey("k"), noMatch},
		{"computed variant object", `{"fractional": [[{"var": "o"}, 1]]}`, map[string]any{"targetingKey": "k", "o": map[string]any{}}, noMatch},
		{"many computed weights", `{"fractional": [` + strings.Repeat(`["a", {"var": "w"}], `, 9) + `["b", 0]]}`, map[string]any{"targetingKey": "k", "w": 1.0}, "a"},
		{"flagKey is part of the default key", `{"==": [{"fractional": [["a", 1], ["b", 1]]}, {"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "targetingKey"}]}, ["a", 1], ["b", 1]]}]}`, withKey("k"), "true"},
	})
}
