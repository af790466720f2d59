package main

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func runMint(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "mint", "-key FILE -aud APP_ID [-aud APP_ID...] -ttl DURATION [-iss ISSUER] [-kid KID] [-o FILE [-force]]", `
Signs an app API token for the jwt/ module's verifier: a JWT whose header
has alg (EdDSA for an Ed25519 key, ES256 for P-256), typ "JWT" and kid, and
whose claims are aud (the Dapr app ids the token is for), iss (when given),
iat and nbf (now) and exp (now + -ttl).

-ttl is required and must be positive: a token that never expires is
refused. daprd reads APP_API_TOKEN once, at start, and sends it until it is
restarted, so choose a lifetime longer than the time between two rotations
(see docs/rotation.md); the app's verifier warns 7 days before exp. Units: s,
m, h, and d for days (720h = 30d).

The key is a PEM "PRIVATE KEY" (PKCS #8) file, as apptoken keygen writes.
The kid defaults to the key's RFC 7638 thumbprint, the kid keygen writes
into the JWK Set. The token goes to stdout (ending with a newline) or, with
-o, to FILE with mode 0600 and no newline.

  apptoken mint -key apptoken.key -aud orders -ttl 30d -o orders.jwt`)
	keyFile := fs.String("key", "", "the signing key: a PEM PKCS #8 `FILE` (Ed25519 or P-256)")
	var aud stringList
	fs.Var(&aud, "aud", "an audience: the Dapr `APP_ID` of the app that accepts the token (repeat for several)")
	iss := fs.String("iss", "", "the issuer claim (optional)")
	ttlText := fs.String("ttl", "", "the lifetime: exp = now + `DURATION` (required; e.g. 720h or 30d)")
	kid := fs.String("kid", "", "the key id in the header (default: the key's RFC 7638 thumbprint)")
	out := fs.String("o", "", "write the token to `FILE` (mode 0600) instead of stdout")
	force := fs.Bool("force", false, "with -o, replace FILE if it exists")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError("mint", "unexpected argument %q", fs.Arg(0))
	case *keyFile == "":
		return usageError("mint", "-key FILE is required (apptoken keygen makes one)")
	case len(aud) == 0:
		return usageError("mint", "-aud APP_ID is required: the Dapr app id of the app that accepts the token")
	case *ttlText == "":
		return usageError("mint", "-ttl is required: a token must expire (e.g. -ttl 30d)")
	case *force && *out == "":
		return usageError("mint", "-force needs -o FILE")
	}
	for _, a := range aud {
		if strings.TrimSpace(a) == "" {
			return usageError("mint", "-aud must not be empty")
		}
	}
	ttl, err := parseTTL(*ttlText)
	if err != nil {
		return usageError("mint", "-ttl %v", err)
	}
	key, err := loadPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	tok, err := mint(key, mintClaims{Audience: aud, Issuer: *iss, TTL: ttl, Kid: *kid}, time.Now())
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := fmt.Fprintln(e.stdout, tok)
		return err
	}
	if err := writePrivate(*out, []byte(tok), *force); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "apptoken mint: wrote a token for %s, expiring %s, to %s (mode 0600)\n",
		strings.Join(aud, ", "), time.Now().Add(ttl).UTC().Format(time.RFC3339), *out)
	return nil
}

// parseTTL reads a positive lifetime: a Go duration (90m, 720h) or a whole
// number of days (30d). Zero, negative and "never" are refused.
func parseTTL(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number of days", s)
		}
		if days > 100*365 {
			return 0, fmt.Errorf("%q is more than 100 years", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration like 720h or 30d: a token must expire", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: the lifetime must be positive: a token must expire", s)
	}
	if d < time.Second {
		return 0, fmt.Errorf("%q is shorter than a second, the resolution of exp", s)
	}
	return d, nil
}

// mintClaims is what a minted token says.
type mintClaims struct {
	Audience []string
	Issuer   string
	TTL      time.Duration
	Kid      string // "": the key's thumbprint
}

// mint signs a token with key at now.
func mint(key crypto.Signer, c mintClaims, now time.Time) (string, error) {
	jwk, err := publicJWK(key.Public())
	if err != nil {
		return "", err
	}
	var method jwt.SigningMethod = jwt.SigningMethodES256
	if _, ok := key.(ed25519.PrivateKey); ok {
		method = jwt.SigningMethodEdDSA
	}
	iat := now.Truncate(time.Second)
	claims := jwt.RegisteredClaims{
		Issuer:    c.Issuer,
		Audience:  jwt.ClaimStrings(c.Audience),
		IssuedAt:  jwt.NewNumericDate(iat),
		NotBefore: jwt.NewNumericDate(iat),
		ExpiresAt: jwt.NewNumericDate(iat.Add(c.TTL)),
	}
	t := jwt.NewWithClaims(method, claims)
	t.Header["kid"] = jwk.Kid
	if c.Kid != "" {
		t.Header["kid"] = c.Kid
	}
	return t.SignedString(key)
}
