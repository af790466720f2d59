// Package jwttest mints signed app tokens, and the key files that verify
// them, for tests: of the apptoken adapters, and of apps that verify
// signed tokens with the apptokenjwt module.
package jwttest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	apptokenjwt "github.com/apptoken-go/apptoken/jwt"
	"github.com/golang-jwt/jwt/v5"
)

// Audience is the audience of the tokens of [Mode]: the example apps' Dapr
// app id.
const Audience = "orders"

// Signer holds a fresh Ed25519 key pair.
type Signer struct {
	priv ed25519.PrivateKey
	// Kid is the key's id: its RFC 7638 thumbprint.
	Kid string
}

// NewSigner makes a fresh Ed25519 key pair.
func NewSigner(tb testing.TB) *Signer {
	tb.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	kid, err := apptokenjwt.Thumbprint(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return &Signer{priv: priv, Kid: kid}
}

// PublicPEM returns the public key as a PEM "PUBLIC KEY" block: a key file
// for [apptokenjwt.KeyFile] or [apptokenjwt.Keys].
func (s *Signer) PublicPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(s.priv.Public())
	if err != nil {
		panic(err) // an Ed25519 key always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Mint returns a token for aud that expires after ttl (or expired, for a
// negative ttl), signed with EdDSA and carrying the key's kid.
func (s *Signer) Mint(tb testing.TB, aud string, ttl time.Duration) string {
	tb.Helper()
	now := time.Now()
	return s.MintClaims(tb, jwt.RegisteredClaims{
		Audience:  jwt.ClaimStrings{aud},
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	})
}

// MintClaims returns a token with the given claims, signed with EdDSA and
// carrying the key's kid.
func (s *Signer) MintClaims(tb testing.TB, claims jwt.Claims) string {
	tb.Helper()
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = s.Kid
	signed, err := t.SignedString(s.priv)
	if err != nil {
		tb.Fatal(err)
	}
	return signed
}

// Mode is the conformance table's mode for signed tokens: a fresh key, a
// token minted for [Audience] that is valid for an hour, and verifiers
// that accept it with apptokenjwt, and nothing but it.
func Mode(tb testing.TB) conformance.Mode {
	tb.Helper()
	s := NewSigner(tb)
	return conformance.Mode{
		Name:    "signed",
		Token:   s.Mint(tb, Audience, time.Hour),
		Options: []apptoken.Option{apptoken.WithMatcher(apptokenjwt.Keys(s.PublicPEM(), apptokenjwt.WithAudience(Audience)))},
		Wrong:   []apptoken.Decision{apptoken.Malformed, apptoken.BadSignature, apptoken.UnknownKey},
	}
}
