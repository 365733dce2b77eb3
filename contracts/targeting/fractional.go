package targeting

import (
	"encoding/json"
	"math"
	"strconv"
)

// maxWeight is flagd's bound on one weight and on their sum.
const maxWeight = math.MaxInt32

// bucket is one [variant, weight] of a fractional; weight nil means a literal weight.
type bucket struct {
	variant node
	weight  node
	w       uint64
}

// fractionalNode is flagd's fractional. The bucketing value is hashed with MurmurHash3
// (x86, 32-bit, seed 0) and projected onto the summed weights as (hash*total)>>32; the
// first bucket whose cumulative weight exceeds that point wins.
type fractionalNode struct {
	bucketBy node // nil: flagKey + targetingKey
	buckets  []bucket
	total    uint64 // sum of the weights when all are literal
	literal  bool
}

func compileFractional(c *compiler, args []any, at argPath) (node, error) {
	n := &fractionalNode{literal: true}
	start := 0
	if len(args) > 0 {
		if _, isBucket := args[0].([]any); !isBucket {
			start = 1
			if args[0] != nil { // a null bucketing value falls back to the targeting key
				b, err := c.sub(args, 0, at)
				if err != nil {
					return nil, err
				}
				if v, ok := constOf(b); ok && v.k != kStr {
					return nil, errAt(at.arg(0), "fractional bucketing value must be a string, got %s", describe(args[0]))
				}
				n.bucketBy = b
			}
		}
	}
	if len(args)-start < 1 {
		return nil, errAt(at.op, "fractional needs at least one [variant, weight] bucket")
	}
	for i := start; i < len(args); i++ {
		b, err := c.compileBucket(args[i], at.arg(i), at)
		if err != nil {
			return nil, err
		}
		if b.weight != nil {
			n.literal = false
		}
		n.total += b.w
		n.buckets = append(n.buckets, b)
	}
	if n.literal && n.total > maxWeight {
		return nil, errAt(at.op, "fractional weights sum to %d, more than %d", n.total, maxWeight)
	}
	return n, nil
}

func (c *compiler) compileBucket(raw any, path string, at argPath) (bucket, error) {
	items, ok := raw.([]any)
	if !ok || len(items) < 1 || len(items) > 2 {
		return bucket{}, errAt(path, "a fractional bucket is [variant] or [variant, weight], got %s", describe(raw))
	}
	variant, err := c.compileIn(items[0], path+"[0]", at.depth+2, at.refsIn)
	if err != nil {
		return bucket{}, err
	}
	if v, ok := constOf(variant); ok && (v.k == kArr || v.k == kObj) {
		return bucket{}, errAt(path+"[0]", "fractional variant must be a string, boolean, number or null")
	}
	b := bucket{variant: variant, w: 1}
	if len(items) == 1 || items[1] == nil {
		return b, nil
	}
	switch w := items[1].(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(w), 64)
		if err != nil || f != math.Trunc(f) {
			return bucket{}, errAt(path+"[1]", "fractional weight must be an integer, got %s", w)
		}
		if f > maxWeight {
			return bucket{}, errAt(path+"[1]", "fractional weight %s is more than %d", w, maxWeight)
		}
		b.w = uint64(math.Max(f, 0)) // flagd clamps a negative weight to 0
		return b, nil
	case map[string]any:
		if b.weight, err = c.compileIn(w, path+"[1]", at.depth+2, at.refsIn); err != nil {
			return bucket{}, err
		}
		b.w = 0
		return b, nil
	}
	return bucket{}, errAt(path+"[1]", "fractional weight must be an integer, got %s", describe(items[1]))
}

func (n *fractionalNode) eval(e *env) value {
	h, ok := n.hash(e)
	if !ok || e.stopped() {
		return e.halt()
	}
	total := n.total
	var dyn [8]uint64
	weights := dyn[:0]
	if !n.literal {
		if len(n.buckets) > len(dyn) {
			weights = make([]uint64, 0, len(n.buckets))
		}
		total = 0
		for _, b := range n.buckets {
			w, ok := bucketWeight(e, b)
			if !ok {
				return e.halt()
			}
			weights = append(weights, w)
			total += w
		}
		if total > maxWeight {
			return e.halt()
		}
	}
	if total == 0 {
		return e.halt()
	}
	point := (uint64(h) * total) >> 32
	var end uint64
	for i, b := range n.buckets {
		if n.literal {
			end += b.w
		} else {
			end += weights[i]
		}
		if point < end {
			v := b.variant.eval(e)
			if v.k == kArr || v.k == kObj {
				return e.halt()
			}
			return v
		}
	}
	return e.halt()
}

func bucketWeight(e *env, b bucket) (uint64, bool) {
	if b.weight == nil {
		return b.w, true
	}
	v := b.weight.eval(e)
	switch v.k {
	case kNull:
		return 1, true
	case kNum:
		if v.n != math.Trunc(v.n) || v.n > maxWeight { // NaN and ±Inf fail here too
			return 0, false
		}
		return uint64(math.Max(v.n, 0)), true
	}
	return 0, false
}

// hash returns the MurmurHash3 of the bucketing value; ok is false when there is none.
func (n *fractionalNode) hash(e *env) (uint32, bool) {
	var m murmur3
	if n.bucketBy == nil {
		return n.targetingKeyHash(e)
	}
	if cat, isCat := n.bucketBy.(*catNode); isCat {
		for _, a := range cat.args {
			writeJSString(&m, a.eval(e))
		}
		return m.sum(), true
	}
	v := n.bucketBy.eval(e)
	switch v.k {
	case kStr:
		m.writeString(v.s)
		return m.sum(), true
	case kNull:
		return n.targetingKeyHash(e)
	}
	return 0, false
}

func (n *fractionalNode) targetingKeyHash(e *env) (uint32, bool) {
	tk, ok := e.targetingKey()
	if !ok {
		return 0, false
	}
	var m murmur3
	m.writeString(e.flagKey)
	m.writeString(tk)
	return m.sum(), true
}

// writeJSString hashes String(v) as cat would build it, without building it.
func writeJSString(m *murmur3, v value) {
	switch v.k {
	case kStr:
		m.writeString(v.s)
	case kNum:
		var buf [32]byte
		m.writeBytes(appendJSNumber(buf[:0], v.n))
	default:
		m.writeBytes(appendJSString(nil, v))
	}
}
