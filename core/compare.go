package apptoken

import (
	"encoding/binary"
	"time"
)

// tokenSet is what the verifier accepts, as one immutable value that a
// reload swaps whole: the tokens, prepared for a constant-time compare, and
// the matchers with the values they accepted lately.
type tokenSet struct {
	ctSet
	// raw keeps the normalised tokens and digests the matchers' digests,
	// to tell whether a reload changed anything.
	raw      []string
	matchers []Matcher
	digests  []string
	// memo remembers the values the matchers accepted; nil without
	// matchers. A new set starts with an empty one.
	memo *memo
	// exp holds each token's exp claim, zero for a token that is not
	// JWT-shaped or carries none; status is what Verifier.Status returns
	// for the tokens while the set is in force. Both are worked out once,
	// here.
	exp    []time.Time
	status Status
}

func newTokenSet(r reading) *tokenSet {
	s := &tokenSet{
		ctSet:    newCTSet(r.tokens),
		raw:      r.tokens,
		matchers: r.matchers,
		digests:  r.digests,
		exp:      make([]time.Time, len(r.tokens)),
	}
	if len(r.matchers) > 0 {
		s.memo = new(memo)
	}
	for i, t := range r.tokens {
		if exp, ok := jwtExpiry(t); ok {
			s.exp[i] = exp
		}
	}
	s.status = statusOf(s.exp)
	return s
}

// ctSet holds strings prepared for a constant-time compare. Each is
// stored zero-padded to MaxTokenLength, so any presented value of up to
// MaxTokenLength bytes can be compared against any of them, over the
// value's length, without a bounds-dependent branch.
type ctSet struct {
	padded [][MaxTokenLength]byte
	lens   []int
}

func newCTSet(tokens []string) ctSet {
	p := ctSet{
		padded: make([][MaxTokenLength]byte, len(tokens)),
		lens:   make([]int, len(tokens)),
	}
	for i, t := range tokens {
		copy(p.padded[i][:], t)
		p.lens[i] = len(t)
	}
	return p
}

// matchAny reports, as 1 or 0, whether any value equals any token. Every value
// is compared with every token; there is no early exit. Callers ensure that
// no value is longer than MaxTokenLength.
//
// Each value is compared with the first len(value) bytes of every padded
// token, and the lengths are compared as numbers, so the time taken
// depends only on the values' lengths and the number of tokens: neither a
// token's length nor its content, nor where a value differs from it,
// changes what is done.
func matchAny(s *ctSet, values []string) int {
	found := 0
	for _, v := range values {
		n := len(v)
		for i := range s.padded {
			found |= isZero(uint64(n^s.lens[i]) | xorBytes(v, s.padded[i][:n]))
		}
	}
	return found
}

// xorBytes returns a non-zero value when a and b, of the same length,
// differ. It reads every byte of both, in 8-byte words straight from the
// slices (nothing is copied into a buffer first), in time that depends only
// on len(a), the presented value's length, which is the caller's and not a
// secret: the branches test the length, never the content. A length that
// is not a multiple of 8 ends with one word that overlaps the previous
// one; a length under 8 is read byte by byte.
func xorBytes(a string, b []byte) uint64 {
	n := len(a)
	b = b[:n]
	var d0, d1, d2, d3 uint64
	i := 0
	for ; i+32 <= n; i += 32 {
		d0 |= word(a, i) ^ wordb(b, i)
		d1 |= word(a, i+8) ^ wordb(b, i+8)
		d2 |= word(a, i+16) ^ wordb(b, i+16)
		d3 |= word(a, i+24) ^ wordb(b, i+24)
	}
	for ; i+8 <= n; i += 8 {
		d0 |= word(a, i) ^ wordb(b, i)
	}
	if i < n {
		if n >= 8 {
			d1 |= word(a, n-8) ^ wordb(b, n-8)
		} else {
			for ; i < n; i++ {
				d1 |= uint64(a[i] ^ b[i])
			}
		}
	}
	return d0 | d1 | d2 | d3
}

// word and wordb read the 8 bytes at i as a little-endian number. The
// compiler turns each into one load.
func word(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func wordb(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i : i+8]) }

// isZero returns 1 when x is zero and 0 otherwise, without a branch.
func isZero(x uint64) int {
	return int(((x | -x) >> 63) ^ 1)
}
