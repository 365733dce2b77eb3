// Package latency records request latencies in a fixed-size, log-linear histogram (the
// HdrHistogram layout): memory stays constant however many requests a run sends, and
// every recorded value is kept to within 1/128 (0.8%) of its true value.
package latency

import (
	"math"
	"math/bits"
	"time"
)

const (
	// subBits sets the precision: each power-of-two range is split into 2^subBits
	// buckets, so a bucket is at most 1/2^subBits of its lower bound wide.
	subBits  = 7
	subCount = 1 << subBits
	// maxExp bounds the range: values up to 2^(maxExp+subBits+1) ns (about 9 minutes)
	// have their own bucket; larger ones are counted in the last.
	maxExp  = 32
	buckets = (maxExp+1)*subCount + subCount
)

// Histogram counts durations. The zero value is not usable: call New. A Histogram is
// not safe for concurrent use; give each goroutine its own and Merge them.
type Histogram struct {
	counts   []uint64
	total    uint64
	min, max time.Duration
	sum      time.Duration
}

// New returns an empty histogram.
func New() *Histogram {
	return &Histogram{counts: make([]uint64, buckets), min: math.MaxInt64}
}

// Record counts one duration; a negative one counts as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[index(uint64(d))]++
	h.total++
	h.sum += d
	h.min = min(h.min, d)
	h.max = max(h.max, d)
}

// Merge adds every count of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.total }

// Min and Max are the exact extremes (zero when empty).
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return h.min
}

// Max is the largest recorded duration (zero when empty).
func (h *Histogram) Max() time.Duration { return h.max }

// Mean is the exact average (zero when empty).
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return h.sum / time.Duration(h.total)
}

// Quantile returns the smallest recorded value v such that a fraction q (0..1) of the
// recorded values are <= v, to the histogram's precision: it returns the upper bound of
// v's bucket, never more than Max. Zero when empty; q is clamped to 0..1.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(upper(i)), h.max)
		}
	}
	return h.max
}

// index maps a value to its bucket: values below 2*subCount have one bucket each; above,
// each power of two [2^k, 2^(k+1)) is split into subCount equal buckets.
func index(v uint64) int {
	if v < 2*subCount {
		return int(v)
	}
	exp := bits.Len64(v) - (subBits + 1)
	if exp > maxExp {
		return buckets - 1
	}
	return exp*subCount + int(v>>uint(exp))
}

// upper is the largest value that maps to bucket i.
func upper(i int) uint64 {
	if i < 2*subCount {
		return uint64(i)
	}
	exp := i/subCount - 1
	mantissa := uint64(i - exp*subCount)
	return (mantissa+1)<<uint(exp) - 1
}
