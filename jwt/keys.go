package apptokenjwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Limits on a key file's content.
const (
	// MaxKeys is the most keys a key file may hold.
	MaxKeys = 64
	// MinRSABits is the smallest RSA modulus accepted.
	MinRSABits = 2048
	// MinHMACBytes is the shortest HMAC secret accepted.
	MinHMACBytes = 32
)

// ErrInvalidKeys: a key file cannot be used. The error says why and which
// key (by position and kid), never a secret.
var ErrInvalidKeys = errors.New("invalid keys")

// key is one verification key, bound to the one algorithm a token signed
// with it may name.
type key struct {
	kid string // "" only for an HMAC secret given without one
	alg string // "EdDSA", "ES256", "RS256", ..., "HS256"
	pub crypto.PublicKey
}

// algsOf lists the algorithms a key of each type may be bound to; the
// first is the one a key is bound to when its file does not say.
var algsOf = map[string][]string{
	"Ed25519": {"EdDSA"},
	"P-256":   {"ES256"},
	"RSA":     {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
	"oct":     {"HS256", "HS384", "HS512"},
}

// parseKeys reads a key file: a JWK Set (or a single JWK) when it starts
// with "{", else PEM "PUBLIC KEY" blocks.
func parseKeys(data []byte) ([]key, error) {
	var keys []key
	var err error
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		keys, err = parseJWKs(trimmed)
	} else {
		keys, err = parsePEM(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKeys, err)
	}
	switch {
	case len(keys) == 0:
		return nil, fmt.Errorf("%w: no key found (want PEM PUBLIC KEY blocks or a JWK Set)", ErrInvalidKeys)
	case len(keys) > MaxKeys:
		return nil, fmt.Errorf("%w: %d keys, more than %d", ErrInvalidKeys, len(keys), MaxKeys)
	}
	for i, k := range keys {
		if k.kid != "" && slices.ContainsFunc(keys[:i], func(o key) bool { return o.kid == k.kid }) {
			return nil, fmt.Errorf("%w: key %d: kid %q appears twice", ErrInvalidKeys, i+1, k.kid)
		}
	}
	return keys, nil
}

// parsePEM reads PUBLIC KEY (PKIX) blocks. A private key is refused: the
// app must hold only what verifies, never what signs.
func parsePEM(data []byte) ([]key, error) {
	var keys []key
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch {
		case strings.Contains(block.Type, "PRIVATE KEY"):
			return nil, fmt.Errorf("block %d is a %s: give the app the public key only", n, block.Type)
		case block.Type != "PUBLIC KEY":
			return nil, fmt.Errorf("block %d is a %s, want PUBLIC KEY", n, block.Type)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", n, err)
		}
		typ, err := keyType(pub)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", n, err)
		}
		kid, err := Thumbprint(pub)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", n, err)
		}
		keys = append(keys, key{kid: kid, alg: algsOf[typ][0], pub: pub})
	}
	if len(bytes.TrimSpace(data)) > 0 && len(keys) == 0 {
		return nil, errors.New("neither PEM nor JSON")
	}
	return keys, nil
}

// keyType checks a public key and names its type: "Ed25519", "P-256" or
// "RSA".
func keyType(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "Ed25519", nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("ECDSA curve %s, want P-256", k.Curve.Params().Name)
		}
		return "P-256", nil
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return "", fmt.Errorf("RSA key of %d bits, want at least %d", k.N.BitLen(), MinRSABits)
		}
		return "RSA", nil
	}
	return "", fmt.Errorf("unsupported key type %T", pub)
}

// jwk holds the members of a JSON Web Key (RFC 7517, 7518, 8037) that
// matter here.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
	K   string `json:"k"`
	D   string `json:"d"`
}

// parseJWKs reads a JWK Set, or a single JWK.
func parseJWKs(data []byte) ([]key, error) {
	var set struct {
		Keys []jwk `json:"keys"`
		Kty  string
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWK Set: %w", err)
	}
	if set.Kty != "" { // a single key
		var one jwk
		if err := json.Unmarshal(data, &one); err != nil {
			return nil, fmt.Errorf("JWK: %w", err)
		}
		set.Keys = []jwk{one}
	}
	keys := make([]key, 0, len(set.Keys))
	for i, j := range set.Keys {
		k, err := j.key()
		if err != nil {
			if j.Kid != "" {
				return nil, fmt.Errorf("key %d (kid %q): %w", i+1, j.Kid, err)
			}
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// key turns a JWK into a verification key bound to its algorithm.
func (j jwk) key() (key, error) {
	if j.D != "" {
		return key{}, errors.New(`holds a private key ("d"): give the app the public key only`)
	}
	if j.Use != "" && j.Use != "sig" {
		return key{}, fmt.Errorf("use %q, want sig", j.Use)
	}
	var pub crypto.PublicKey
	var typ string
	switch j.Kty {
	case "OKP":
		if j.Crv != "Ed25519" {
			return key{}, fmt.Errorf("OKP curve %q, want Ed25519", j.Crv)
		}
		x, err := b64(j.X, "x", ed25519.PublicKeySize)
		if err != nil {
			return key{}, err
		}
		pub, typ = ed25519.PublicKey(x), "Ed25519"
	case "EC":
		if j.Crv != "P-256" {
			return key{}, fmt.Errorf("EC curve %q, want P-256", j.Crv)
		}
		x, err := b64(j.X, "x", 32)
		if err != nil {
			return key{}, err
		}
		y, err := b64(j.Y, "y", 32)
		if err != nil {
			return key{}, err
		}
		ec, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), slices.Concat([]byte{4}, x, y))
		if err != nil {
			return key{}, fmt.Errorf("EC point: %w", err)
		}
		pub, typ = ec, "P-256"
	case "RSA":
		n, err := b64(j.N, "n", 0)
		if err != nil {
			return key{}, err
		}
		e, err := b64(j.E, "e", 0)
		if err != nil {
			return key{}, err
		}
		if len(e) == 0 || len(e) > 4 || n[0] == 0 {
			return key{}, errors.New("RSA n or e is not a minimal positive number")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 || exp%2 == 0 {
			return key{}, fmt.Errorf("RSA exponent %d", exp)
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
		if typ, err = keyType(pub); err != nil {
			return key{}, err
		}
	case "oct":
		k, err := b64(j.K, "k", 0)
		if err != nil {
			return key{}, err
		}
		if len(k) < MinHMACBytes {
			return key{}, fmt.Errorf("HMAC secret of %d bytes, want at least %d", len(k), MinHMACBytes)
		}
		pub, typ = k, "oct"
	default:
		return key{}, fmt.Errorf("kty %q, want OKP, EC, RSA or oct", j.Kty)
	}
	alg := algsOf[typ][0]
	if j.Alg != "" {
		if !slices.Contains(algsOf[typ], j.Alg) {
			return key{}, fmt.Errorf("alg %q cannot be used with a %s key", j.Alg, typ)
		}
		alg = j.Alg
	}
	kid := j.Kid
	if kid == "" && typ != "oct" { // a secret's hash is not published as its name
		var err error
		if kid, err = Thumbprint(pub); err != nil {
			return key{}, err
		}
	}
	return key{kid: kid, alg: alg, pub: pub}, nil
}

// b64 decodes a base64url member without padding; size, when not 0, is
// the length it must have.
func b64(s, name string, size int) ([]byte, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("member %q is not base64url: %w", name, err)
	case len(b) == 0:
		return nil, fmt.Errorf("member %q is missing", name)
	case size != 0 && len(b) != size:
		return nil, fmt.Errorf("member %q has %d bytes, want %d", name, len(b), size)
	}
	return b, nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of
// an Ed25519, ECDSA P-256 or RSA public key: the kid a key read from a PEM
// block, or from a JWK without one, is known by. The apptoken command
// writes it as the kid of the keys it makes and of the tokens it mints.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	enc := base64.RawURLEncoding.EncodeToString
	var members string // the required members, in lexicographic order
	switch k := pub.(type) {
	case ed25519.PublicKey:
		members = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, enc(k))
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("ECDSA curve %s, want P-256", k.Curve.Params().Name)
		}
		point, err := k.Bytes()
		if err != nil {
			return "", err
		}
		members = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, enc(point[1:33]), enc(point[33:]))
	case *rsa.PublicKey:
		members = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, enc(big.NewInt(int64(k.E)).Bytes()), enc(k.N.Bytes()))
	default:
		return "", fmt.Errorf("unsupported key type %T", pub)
	}
	sum := sha256.Sum256([]byte(members))
	return enc(sum[:]), nil
}
