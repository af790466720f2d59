package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifyJWT checks tok's signature against keys, and its exp, nbf and,
// when aud is not empty, its aud, at now. It returns the kid of the key
// that verified it.
//
// This is the one place inspect verifies a signed token. It is written
// with golang-jwt/jwt/v5 to the rules the jwt/ module's verifier follows
// (the alg is fixed by the key's type, never taken from the token alone;
// exp is required), because this module requires none of the
// repository's (see the depguard rule cmd-imports). The end-to-end suite's
// TestCommandTokensVerifyWithJWTModule holds the two to the same verdicts.
func verifyJWT(tok string, keys []publicKey, aud string, now time.Time) (kid string, err error) {
	header, _, err := splitJWT(tok)
	if err != nil {
		return "", err
	}
	var tried int
	var lastErr error
	for _, k := range keys {
		if k.alg != header.Alg || (header.Kid != "" && k.kid != "" && k.kid != header.Kid) {
			continue
		}
		tried++
		opts := []jwt.ParserOption{
			jwt.WithValidMethods([]string{k.alg}),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(func() time.Time { return now }),
		}
		if aud != "" {
			opts = append(opts, jwt.WithAudience(aud))
		}
		_, err := jwt.NewParser(opts...).ParseWithClaims(tok, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return k.key, nil })
		if err == nil {
			return k.kid, nil
		}
		lastErr = err
		// A bad signature may be another key's; any other failure (expired,
		// wrong audience) is the token's and the same for every key.
		if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			break
		}
	}
	if tried == 0 {
		if header.Kid != "" {
			return "", fmt.Errorf("no %s key with kid %q among the keys given", header.Alg, header.Kid)
		}
		return "", fmt.Errorf("no %s key among the keys given", header.Alg)
	}
	return "", lastErr
}
