package latency

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestQuantileOfSmallValuesIsExact(t *testing.T) {
	h := New()
	for v := 1; v <= 100; v++ {
		h.Record(time.Duration(v))
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, 1}, {0.01, 1}, {0.5, 50}, {0.99, 99}, {0.995, 100}, {1, 100}, {-1, 1}, {2, 100},
	}
	for _, tt := range tests {
		if got := h.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 || h.Mean() != 50 {
		t.Errorf("count %d min %v max %v mean %v, want 100 1 100 50", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestQuantileIsWithinPrecisionOfTheExactValue(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi time.Duration
	}{
		{"microseconds", time.Microsecond, time.Millisecond},
		{"milliseconds", time.Millisecond, time.Second},
		{"wide", 200 * time.Nanosecond, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			h := New()
			values := make([]time.Duration, 20000)
			for i := range values {
				values[i] = tt.lo + time.Duration(rng.Int64N(int64(tt.hi-tt.lo)))
				h.Record(values[i])
			}
			slices.Sort(values)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
				exact := values[int(q*float64(len(values)))-1]
				got := h.Quantile(q)
				if got < exact || float64(got-exact) > float64(exact)/128 {
					t.Errorf("Quantile(%v) = %v, exact %v: outside [exact, exact*(1+1/128)]", q, got, exact)
				}
			}
		})
	}
}

func TestEveryValueLandsInABucketThatHoldsIt(t *testing.T) {
	values := []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<20 + 12345, 1 << 39, 1<<40 - 1}
	for _, v := range values {
		i := index(v)
		lo := uint64(0)
		if i > 0 {
			lo = upper(i-1) + 1
		}
		if v < lo || v > upper(i) {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, i, lo, upper(i))
		}
		if width := upper(i) - lo; width > lo/subCount+1 && lo >= 2*subCount {
			t.Errorf("bucket %d = [%d, %d] is wider than 1/%d of its lower bound", i, lo, upper(i), subCount)
		}
	}
	if got := index(1 << 62); got != buckets-1 {
		t.Errorf("index(2^62) = %d, want the last bucket %d", got, buckets-1)
	}
}

func TestMergeEqualsRecordingEverythingInOne(t *testing.T) {
	all, a, b := New(), New(), New()
	for v := range 5000 {
		d := time.Duration(v*v) * time.Nanosecond
		all.Record(d)
		if v%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(b)
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Fatalf("merged count/min/max/mean %d %v %v %v, want %d %v %v %v",
			a.Count(), a.Min(), a.Max(), a.Mean(), all.Count(), all.Min(), all.Max(), all.Mean())
	}
	for _, q := range []float64{0.1, 0.5, 0.99, 1} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("Quantile(%v): merged %v, single %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
}

func TestEmptyAndNegative(t *testing.T) {
	h := New()
	if h.Quantile(0.99) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Errorf("empty histogram: p99 %v min %v max %v mean %v, want zeros", h.Quantile(0.99), h.Min(), h.Max(), h.Mean())
	}
	h.Merge(New())
	if h.Count() != 0 || h.Min() != 0 {
		t.Errorf("merging empties: count %d min %v", h.Count(), h.Min())
	}
	h.Record(-time.Second)
	if h.Count() != 1 || h.Max() != 0 || h.Quantile(1) != 0 {
		t.Errorf("negative duration: count %d max %v p100 %v, want 1 0 0", h.Count(), h.Max(), h.Quantile(1))
	}
}
