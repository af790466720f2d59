package apptoken

import (
	"strings"
	"testing"
)

// TestMatchIsEquality checks the constant-time compare against ==, for
// every length around the chunk boundaries and a difference at each byte.
func TestMatchIsEquality(t *testing.T) {
	lengths := []int{1, 2, 7, 8, 9, 31, 43, 63, 64, 65, 127, 128, 129, 200, 1000, MaxTokenLength - 1, MaxTokenLength}
	for _, n := range lengths {
		tok := strings.Repeat("abcdefghij", n/10+1)[:n]
		s := newTokenSet(reading{tokens: []string{tok}})
		if s.match(tok) != 1 {
			t.Fatalf("len %d: equal value not matched", n)
		}
		for _, m := range lengths {
			if m == n {
				continue
			}
			p := strings.Repeat("abcdefghij", m/10+1)[:m]
			if s.match(p) != 0 {
				t.Fatalf("len %d: value of length %d matched", n, m)
			}
			// Zero bytes where the token's padding is: must still differ.
			if m > n {
				z := tok + strings.Repeat("\x00", m-n)
				if s.match(z) != 0 {
					t.Fatalf("len %d: token followed by NULs matched", n)
				}
			}
		}
		if s.match("") != 0 {
			t.Fatalf("len %d: empty value matched", n)
		}
		for i := 0; i < n; i += max(1, n/70) {
			b := []byte(tok)
			b[i] ^= 0x01
			if s.match(string(b)) != 0 {
				t.Fatalf("len %d: value differing at byte %d matched", n, i)
			}
		}
	}
}

func TestMatchSeveralTokens(t *testing.T) {
	s := newTokenSet(reading{tokens: []string{"first-token", "second", "third-token-longer"}})
	for _, p := range []string{"first-token", "second", "third-token-longer"} {
		if s.match(p) != 1 {
			t.Errorf("%q not matched", p)
		}
	}
	for _, p := range []string{"first", "second-", "third-token-longe", ""} {
		if s.match(p) != 0 {
			t.Errorf("%q matched", p)
		}
	}
	if matchAny(&s.ctSet, []string{"x", "second"}) != 1 || matchAny(&s.ctSet, []string{"x", "y"}) != 0 {
		t.Error("matchAny")
	}
}

// match reports, as 1 or 0, whether p equals one of the tokens of s.
func (s *tokenSet) match(p string) int { return matchAny(&s.ctSet, []string{p}) }

func TestIsZero(t *testing.T) {
	for _, x := range []uint64{1, 2, 1 << 63, ^uint64(0), 0x8000000000000001} {
		if isZero(x) != 0 {
			t.Errorf("isZero(%#x) = 1", x)
		}
	}
	if isZero(0) != 1 {
		t.Error("isZero(0) = 0")
	}
}
