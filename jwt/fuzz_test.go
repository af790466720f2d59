package apptokenjwt_test

import (
	"strings"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenjwt "github.com/apptoken-go/apptoken/jwt"
)

// FuzzMatch feeds the matcher arbitrary values, seeded with valid tokens
// of each algorithm and the claims table's forgeries. It must never panic,
// and it accepts a value only when it is one of the valid tokens: none of
// the fuzzer's changes to a token (to its header, claims, signature or
// encoding) may still verify.
func FuzzMatch(f *testing.F) {
	k := testKeys(f)
	set := jwks(f, k["EdDSA"], k["ES256"], k["RS256"], k["PS256"], k["HS256"])
	m := load(f, set, apptokenjwt.WithAudience("orders"))
	valid := map[string]bool{}
	for _, alg := range []string{"EdDSA", "ES256", "RS256", "PS256", "HS256"} {
		tok := mint(f, k[alg], claims(nil), nil)
		valid[tok] = true
		f.Add(tok)
		parts := strings.Split(tok, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + ".." + parts[2])
		f.Add(tok + "." + parts[2])
	}
	f.Add("")
	f.Add("..")
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, value string) {
		if value == "" || len(value) > apptoken.MaxTokenLength {
			return // the verifier never asks a matcher about these
		}
		d, ttl := m.Match(value)
		switch {
		case d == apptoken.Accepted && !valid[value]:
			t.Fatalf("accepted a value that is not a valid token: %q", value)
		case d == apptoken.Accepted && (ttl <= 0 || ttl > 2*time.Hour):
			t.Fatalf("ttl %v for a token that expires in an hour", ttl)
		case d != apptoken.Accepted && (d.Allowed() || d.String() == "unknown"):
			t.Fatalf("decision %d (%v)", d, d)
		}
	})
}
