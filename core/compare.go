package apptoken

import "encoding/binary"

// chunk is the unit of work of the compare: presented values are processed in
// whole chunks of this many bytes, so the time taken depends only on
// ceil(len(value)/chunk), never on the configured tokens' length or content.
const chunk = 64

// tokenSet is an immutable set of accepted tokens, prepared for a
// constant-time compare. Each token is stored zero-padded to MaxTokenLength,
// so any presented value of up to MaxTokenLength bytes can be compared
// against any token without a bounds-dependent branch.
type tokenSet struct {
	padded [][MaxTokenLength]byte
	lens   []int
	// raw keeps the normalised tokens, to tell whether a reload changed anything.
	raw []string
}

func newTokenSet(tokens []string) *tokenSet {
	s := &tokenSet{
		padded: make([][MaxTokenLength]byte, len(tokens)),
		lens:   make([]int, len(tokens)),
		raw:    tokens,
	}
	for i, t := range tokens {
		copy(s.padded[i][:], t)
		s.lens[i] = len(t)
	}
	return s
}

// matchAny reports, as 1 or 0, whether any value equals any token. Every value
// is compared with every token; there is no early exit. Callers ensure that
// no value is longer than MaxTokenLength.
func matchAny[T string | []byte](s *tokenSet, values []T) int {
	found := 0
	for _, v := range values {
		found |= s.match(asBytes(v))
	}
	return found
}

// match reports, as 1 or 0, whether p equals one of the tokens, in time that
// depends only on len(p) rounded up to a chunk and on the number of tokens.
func (s *tokenSet) match(p []byte) int {
	n := len(p)
	full := n &^ (chunk - 1)
	// The last partial chunk is copied into a zeroed buffer so that it can be
	// compared as a whole chunk. copy's cost is the same for every length
	// within a size class, and the length itself is the caller's, not a secret.
	var tail [chunk]byte
	copy(tail[:], p[full:])
	found := 0
	for i := range s.padded {
		t := s.padded[i][:]
		var diff uint64
		for off := 0; off < full; off += chunk {
			diff |= xorChunk(p[off:off+chunk], t[off:off+chunk])
		}
		if full < n {
			diff |= xorChunk(tail[:], t[full:full+chunk])
		}
		diff |= uint64(n ^ s.lens[i])
		found |= isZero(diff)
	}
	return found
}

// xorChunk returns a non-zero value when the chunk-sized a and b differ.
func xorChunk(a, b []byte) uint64 {
	_, _ = a[chunk-1], b[chunk-1]
	le := binary.LittleEndian
	return (le.Uint64(a[0:]) ^ le.Uint64(b[0:])) |
		(le.Uint64(a[8:]) ^ le.Uint64(b[8:])) |
		(le.Uint64(a[16:]) ^ le.Uint64(b[16:])) |
		(le.Uint64(a[24:]) ^ le.Uint64(b[24:])) |
		(le.Uint64(a[32:]) ^ le.Uint64(b[32:])) |
		(le.Uint64(a[40:]) ^ le.Uint64(b[40:])) |
		(le.Uint64(a[48:]) ^ le.Uint64(b[48:])) |
		(le.Uint64(a[56:]) ^ le.Uint64(b[56:]))
}

// isZero returns 1 when x is zero and 0 otherwise, without a branch.
func isZero(x uint64) int {
	return int(((x | -x) >> 63) ^ 1)
}
