package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var base64url43 = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		out := must(t, "", "", "new").stdout
		tok, ok := strings.CutSuffix(out, "\n")
		if !ok || !base64url43.MatchString(tok) {
			t.Fatalf("apptoken new printed %d bytes, want 43 base64url characters and a newline", len(out))
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
		if err != nil || len(b) != 32 {
			t.Fatalf("the token does not decode to 32 bytes (%d, %v)", len(b), err)
		}
		if seen[tok] {
			t.Fatal("apptoken new printed the same token twice")
		}
		seen[tok] = true
	}
}

func TestNewFile(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "", "new", "-o", "app.token")
	f := filepath.Join(dir, "app.token")
	checkPrivateFile(t, f)
	first, _ := os.ReadFile(f)
	if !base64url43.Match(first) {
		t.Fatalf("the file holds %d bytes, want 43 base64url characters and no newline", len(first))
	}

	// Never overwritten without -force.
	r := apptokenCmd(t, dir, "", "new", "-o", "app.token")
	if r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("new -o over an existing file: exit %d, %q; want 1 and a refusal", r.code, r.stderr)
	}
	if again, _ := os.ReadFile(f); string(again) != string(first) {
		t.Error("the refused run changed the file")
	}

	// -force replaces it, and a file that was world-readable becomes 0600.
	if err := os.Chmod(f, 0o644); err != nil { //nolint:gosec // G302: a world-readable file on purpose, which -force must make 0600
		t.Fatal(err)
	}
	must(t, dir, "", "new", "-o", "app.token", "-force")
	checkPrivateFile(t, f)
	if again, _ := os.ReadFile(f); string(again) == string(first) || !base64url43.Match(again) {
		t.Error("-force did not write a new token")
	}
	if r := apptokenCmd(t, dir, "", "new", "-force"); r.code != 2 {
		t.Errorf("-force without -o: exit %d, want 2", r.code)
	}
}

func checkPrivateFile(t *testing.T, name string) {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", filepath.Base(name), fi.Mode().Perm())
	}
}

// RFC 8037, appendix A.3: the thumbprint of its Ed25519 example key.
func TestThumbprintRFC8037(t *testing.T) {
	k := jwkKey{Kty: "OKP", Crv: "Ed25519", X: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
	if got, want := thumbprint(k), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
}

func TestKeygenMintVerify(t *testing.T) {
	for _, c := range []struct {
		typ, alg string
		method   jwt.SigningMethod
	}{
		{"ed25519", "EdDSA", jwt.SigningMethodEdDSA},
		{"p256", "ES256", jwt.SigningMethodES256},
	} {
		t.Run(c.typ, func(t *testing.T) {
			dir := t.TempDir()
			out := must(t, dir, "", "keygen", "-type", c.typ, "-out", "k", "-jwks", "k.jwks.json").stdout
			checkPrivateFile(t, filepath.Join(dir, "k.key"))
			pub := readPublicPEM(t, filepath.Join(dir, "k.pub"))

			// The JWK Set holds the same key, with its thumbprint as kid.
			var set jwkSet
			data, _ := os.ReadFile(filepath.Join(dir, "k.jwks.json"))
			if err := json.Unmarshal(data, &set); err != nil || len(set.Keys) != 1 {
				t.Fatalf("JWK Set: %v, %d keys", err, len(set.Keys))
			}
			jk := set.Keys[0]
			if jk.Alg != c.alg || jk.Use != "sig" || jk.Kid != thumbprint(jk) || !strings.Contains(out, jk.Kid) {
				t.Errorf("JWK %+v: want alg %s, use sig, kid its thumbprint, printed", jk, c.alg)
			}
			fromSet, err := jk.public()
			if err != nil || !equalKeys(fromSet.key, pub) {
				t.Fatalf("the JWK Set's key is not the PEM public key (%v)", err)
			}

			// Refuses to overwrite, and writes nothing when it refuses.
			if r := apptokenCmd(t, dir, "", "keygen", "-type", c.typ, "-out", "k"); r.code != 1 {
				t.Errorf("keygen over existing files: exit %d, want 1", r.code)
			}

			before := time.Now().Truncate(time.Second)
			tok := strings.TrimSpace(must(t, dir, "", "mint", "-key", "k.key", "-aud", "orders", "-aud", "billing", "-iss", "ops", "-ttl", "2h").stdout)

			// Verified by golang-jwt directly, with the alg fixed by the key.
			claims := &jwt.RegisteredClaims{}
			parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil },
				jwt.WithValidMethods([]string{c.alg}), jwt.WithAudience("orders"), jwt.WithIssuer("ops"), jwt.WithExpirationRequired())
			if err != nil {
				t.Fatalf("the minted token does not verify: %v", err)
			}
			if parsed.Header["typ"] != "JWT" || parsed.Header["kid"] != jk.Kid || parsed.Method != c.method {
				t.Errorf("header %v: want typ JWT, kid %s, alg %s", parsed.Header, jk.Kid, c.alg)
			}
			iat := claims.IssuedAt.Time
			if iat.Before(before) || iat.After(time.Now()) || !claims.NotBefore.Equal(iat) || claims.ExpiresAt.Sub(iat) != 2*time.Hour {
				t.Errorf("iat %v nbf %v exp %v: want nbf = iat = now, exp = iat + 2h", iat, claims.NotBefore, claims.ExpiresAt)
			}
			if strings.Join(claims.Audience, ",") != "orders,billing" {
				t.Errorf("aud %v, want [orders billing]", claims.Audience)
			}

			// Refused after expiry, by golang-jwt and by the command's verifier.
			after := claims.ExpiresAt.Add(time.Second)
			_, err = jwt.ParseWithClaims(tok, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return pub, nil },
				jwt.WithValidMethods([]string{c.alg}), jwt.WithTimeFunc(func() time.Time { return after }))
			if !errors.Is(err, jwt.ErrTokenExpired) {
				t.Errorf("after exp: %v, want %v", err, jwt.ErrTokenExpired)
			}
			keys, err := loadPublicKeys(filepath.Join(dir, "k.jwks.json"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := verifyJWT(tok, keys, "orders", time.Now()); err != nil {
				t.Errorf("verifyJWT now: %v", err)
			}
			if _, err := verifyJWT(tok, keys, "orders", after); !errors.Is(err, jwt.ErrTokenExpired) {
				t.Errorf("verifyJWT after exp: %v, want %v", err, jwt.ErrTokenExpired)
			}
			if _, err := verifyJWT(tok, keys, "payments", time.Now()); !errors.Is(err, jwt.ErrTokenInvalidAudience) {
				t.Errorf("verifyJWT for another app: %v, want %v", err, jwt.ErrTokenInvalidAudience)
			}

			// inspect verifies it with either key file, and never prints it.
			for _, keyFile := range []string{"k.pub", "k.jwks.json"} {
				r := must(t, dir, tok, "inspect", "-keys", keyFile, "-aud", "orders")
				if !strings.Contains(r.stdout, "verified with the key "+jk.Kid) || !strings.Contains(r.stdout, "aud         orders, billing") {
					t.Errorf("inspect -keys %s:\n%s", keyFile, r.stdout)
				}
				noSecret(t, r, tok)
			}
			// Another key: not verified, exit 1.
			must(t, dir, "", "keygen", "-type", c.typ, "-out", "other")
			r := apptokenCmd(t, dir, tok, "inspect", "-keys", "other.pub")
			if r.code != 1 || !strings.Contains(r.stdout, "NOT VERIFIED") {
				t.Errorf("inspect against another key: exit %d\n%s", r.code, r.stdout)
			}
			noSecret(t, r, tok)
		})
	}
}

// noSecret fails if the output holds tok or its signature.
func noSecret(t *testing.T, r ran, tok string) {
	t.Helper()
	sig := tok
	if i := strings.LastIndex(tok, "."); i >= 0 {
		sig = tok[i+1:]
	}
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, tok) || strings.Contains(s, sig) {
			t.Errorf("the output holds the token or its signature:\n%s", s)
		}
	}
}

func readPublicPEM(t *testing.T, name string) any {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("%s: not a PEM PUBLIC KEY", name)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func equalKeys(a, b any) bool {
	switch a := a.(type) {
	case ed25519.PublicKey:
		return a.Equal(b)
	case *ecdsa.PublicKey:
		return a.Equal(b)
	}
	return false
}

func TestMintRefuses(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "", "keygen", "-out", "k")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-key", "k.key", "-aud", "orders"}, "-ttl is required"},
		{[]string{"-key", "k.key", "-aud", "orders", "-ttl", "0"}, "must be positive"},
		{[]string{"-key", "k.key", "-aud", "orders", "-ttl", "-1h"}, "must be positive"},
		{[]string{"-key", "k.key", "-aud", "orders", "-ttl", "never"}, "must expire"},
		{[]string{"-key", "k.key", "-aud", "orders", "-ttl", "0d"}, "must be positive"},
		{[]string{"-key", "k.key", "-ttl", "1h"}, "-aud APP_ID is required"},
		{[]string{"-aud", "orders", "-ttl", "1h"}, "-key FILE is required"},
	} {
		r := apptokenCmd(t, dir, "", append([]string{"mint"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("mint %q: exit %d, stderr %q, stdout %d bytes; want 2, %q, nothing", c.args, r.code, r.stderr, len(r.stdout), c.want)
		}
	}
	// A key file that is not a private key: a clear error, exit 1.
	r := apptokenCmd(t, dir, "", "mint", "-key", "k.pub", "-aud", "orders", "-ttl", "1h")
	if r.code != 1 || !strings.Contains(r.stderr, `want a PKCS #8 "PRIVATE KEY"`) {
		t.Errorf("mint with a public key: exit %d, %q", r.code, r.stderr)
	}
}

func TestInspectOpaque(t *testing.T) {
	dir := t.TempDir()
	good := strings.TrimSpace(must(t, dir, "", "new").stdout)
	r := must(t, dir, good+"\n", "inspect")
	for _, want := range []string{"length      43 bytes", "base64url", "at most 256 bits", "accepted as a configured token"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect of a new token does not say %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "WARNING") {
		t.Errorf("inspect warns about a new token:\n%s", r.stdout)
	}
	noSecret(t, r, good)

	for _, weak := range []string{"password123", "0123456789abcdef0123456789abcdef"[:30], strings.Repeat("a", 64)} {
		r := must(t, dir, weak, "inspect")
		if !strings.Contains(r.stdout, "WARNING") {
			t.Errorf("inspect does not warn about a weak token of %d bytes:\n%s", len(weak), r.stdout)
		}
		noSecret(t, r, weak)
	}

	// A token file of two lines, with a trailing newline: both described.
	next := strings.TrimSpace(must(t, dir, "", "new").stdout)
	if err := os.WriteFile(filepath.Join(dir, "tokens"), []byte(good+"\n\n"+next+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = must(t, dir, "", "inspect", "tokens")
	if !strings.Contains(r.stdout, "token 1 of 2 (line 1)") || !strings.Contains(r.stdout, "token 2 of 2 (line 3)") {
		t.Errorf("inspect of a two-token file:\n%s", r.stdout)
	}
	noSecret(t, r, good)
	noSecret(t, r, next)

	// A control character: refused by apptoken, exit 1; nothing at all: exit 1.
	r = apptokenCmd(t, dir, "abc\x01def-0123456789-0123456789", "inspect")
	if r.code != 1 || !strings.Contains(r.stdout, "REFUSED") {
		t.Errorf("inspect of a token with a control character: exit %d\n%s", r.code, r.stdout)
	}
	if r := apptokenCmd(t, dir, " \n", "inspect"); r.code != 1 || !strings.Contains(r.stderr, "no token") {
		t.Errorf("inspect of white space: exit %d, %q", r.code, r.stderr)
	}
}

func TestInspectExpiredJWT(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "", "keygen", "-out", "k")
	key, err := loadPrivateKey(filepath.Join(dir, "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := mint(key, mintClaims{Audience: []string{"orders"}, TTL: time.Hour}, time.Now().Add(-3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r := apptokenCmd(t, dir, tok, "inspect", "-keys", "k.pub")
	if r.code != 1 || !strings.Contains(r.stdout, "EXPIRED 2h0m0s ago") || !strings.Contains(r.stdout, "token is expired") {
		t.Errorf("inspect of an expired token: exit %d\n%s", r.code, r.stdout)
	}
	noSecret(t, r, tok)
}
