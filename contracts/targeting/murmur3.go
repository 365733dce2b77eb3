package targeting

import "math/bits"

// murmur3 is MurmurHash3 x86 32-bit with seed 0, the hash flagd's fractional uses,
// fed incrementally so that flagKey+targetingKey or the parts of a cat are hashed
// without building the concatenated string.
type murmur3 struct {
	h      uint32
	tail   [4]byte
	ntail  int
	length int
}

const (
	murmurC1 = 0xcc9e2d51
	murmurC2 = 0x1b873593
)

func (m *murmur3) block(k uint32) {
	k *= murmurC1
	k = bits.RotateLeft32(k, 15)
	k *= murmurC2
	m.h ^= k
	m.h = bits.RotateLeft32(m.h, 13)
	m.h = m.h*5 + 0xe6546b64
}

func (m *murmur3) writeByte(c byte) {
	m.tail[m.ntail] = c
	m.ntail++
	m.length++
	if m.ntail == 4 {
		m.block(uint32(m.tail[0]) | uint32(m.tail[1])<<8 | uint32(m.tail[2])<<16 | uint32(m.tail[3])<<24)
		m.ntail = 0
	}
}

func (m *murmur3) writeString(s string) {
	i := 0
	for ; m.ntail > 0 && i < len(s); i++ {
		m.writeByte(s[i])
	}
	for ; i+4 <= len(s); i += 4 {
		m.block(uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24)
		m.length += 4
	}
	for ; i < len(s); i++ {
		m.writeByte(s[i])
	}
}

func (m *murmur3) writeBytes(b []byte) {
	for _, c := range b {
		m.writeByte(c)
	}
}

func (m *murmur3) sum() uint32 {
	h := m.h
	var k uint32
	switch m.ntail {
	case 3:
		k ^= uint32(m.tail[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(m.tail[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(m.tail[0])
		k *= murmurC1
		k = bits.RotateLeft32(k, 15)
		k *= murmurC2
		h ^= k
	}
	h ^= uint32(m.length)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

func murmur3String(s string) uint32 {
	var m murmur3
	m.writeString(s)
	return m.sum()
}
