package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Key algorithms: the key type fixes the JWS alg, and the other way round.
const (
	algEdDSA = "EdDSA" // Ed25519
	algES256 = "ES256" // ECDSA P-256 with SHA-256
)

// maxKeyFile bounds what is read from a key or token file.
const maxKeyFile = 1 << 20

func runKeygen(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keygen", "[-type ed25519|p256] [-out PREFIX] [-jwks FILE] [-force]", `
Makes a key pair for signed app tokens (apptoken mint) and writes:

  PREFIX.key   the private key, PEM "PRIVATE KEY" (PKCS #8), mode 0600
  PREFIX.pub   the public key, PEM "PUBLIC KEY" (PKIX), mode 0644
  FILE         with -jwks, the public key as a JWK Set (mode 0644)

The key id (kid) is the key's RFC 7638 JWK thumbprint (SHA-256, base64url);
the JWK Set carries it and mint puts it in the tokens' header by default.
Ed25519 signs as EdDSA, P-256 as ES256. Existing files are never
overwritten without -force.`)
	typ := fs.String("type", "ed25519", "key `type`: ed25519 or p256")
	prefix := fs.String("out", "apptoken", "write `PREFIX`.key and PREFIX.pub")
	jwksFile := fs.String("jwks", "", "also write the public key as a JWK Set to `FILE`")
	force := fs.Bool("force", false, "replace files that exist")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("keygen", "unexpected argument %q", fs.Arg(0))
	}
	if *prefix == "" {
		return usageError("keygen", "-out must not be empty")
	}
	var priv crypto.Signer
	switch strings.ToLower(*typ) {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		priv = k
	case "p256", "p-256", "es256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		priv = k
	default:
		return usageError("keygen", "-type %q: want ed25519 or p256", *typ)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return err
	}
	jwk, err := publicJWK(priv.Public())
	if err != nil {
		return err
	}
	keyFile, pubFile := *prefix+".key", *prefix+".pub"
	if !*force {
		// Check every file first, so that a refusal leaves nothing half written.
		for _, f := range []string{keyFile, pubFile, *jwksFile} {
			if f == "" {
				continue
			}
			if _, err := os.Lstat(f); err == nil {
				return fmt.Errorf("%s exists; not overwriting it (-force replaces it)", f)
			}
		}
	}
	if err := writePrivate(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), *force); err != nil {
		return err
	}
	if err := writeFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644, *force); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "private key  %s (mode 0600)\npublic key   %s\n", keyFile, pubFile)
	if *jwksFile != "" {
		set, err := json.MarshalIndent(jwkSet{Keys: []jwkKey{jwk}}, "", "  ")
		if err != nil {
			return err
		}
		if err := writeFile(*jwksFile, append(set, '\n'), 0o644, *force); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "JWK Set      %s\n", *jwksFile)
	}
	fmt.Fprintf(e.stdout, "alg          %s\nkid          %s\n", jwk.Alg, jwk.Kid)
	return nil
}

// jwkSet is a JSON Web Key Set (RFC 7517) of public keys.
type jwkSet struct {
	Keys []jwkKey `json:"keys"`
}

// jwkKey is one public key of a JWK Set: OKP/Ed25519 or EC/P-256.
type jwkKey struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// publicJWK returns the JWK of an Ed25519 or P-256 public key, with its
// thumbprint as kid, its alg and use "sig".
func publicJWK(pub crypto.PublicKey) (jwkKey, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	var k jwkKey
	switch p := pub.(type) {
	case ed25519.PublicKey:
		k = jwkKey{Kty: "OKP", Crv: "Ed25519", X: b64(p), Alg: algEdDSA}
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return k, fmt.Errorf("ECDSA key on %s: only P-256 (ES256) is supported", p.Curve.Params().Name)
		}
		// The uncompressed point is 0x04 || X || Y, each 32 bytes.
		pt, err := p.Bytes()
		if err != nil {
			return k, err
		}
		k = jwkKey{Kty: "EC", Crv: "P-256", X: b64(pt[1:33]), Y: b64(pt[33:]), Alg: algES256}
	default:
		return k, fmt.Errorf("a %T key: only Ed25519 and ECDSA P-256 keys are supported", pub)
	}
	k.Use = "sig"
	k.Kid = thumbprint(k)
	return k, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of k: SHA-256 of the required
// members in lexicographic order, without white space, base64url.
func thumbprint(k jwkKey) string {
	var s string
	if k.Kty == "OKP" {
		s = fmt.Sprintf(`{"crv":%q,"kty":%q,"x":%q}`, k.Crv, k.Kty, k.X)
	} else {
		s = fmt.Sprintf(`{"crv":%q,"kty":%q,"x":%q,"y":%q}`, k.Crv, k.Kty, k.X, k.Y)
	}
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// readLimited reads a file of at most maxKeyFile bytes.
func readLimited(name string) ([]byte, error) {
	f, err := os.Open(name) //nolint:gosec // G304: the file the user named on the command line
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if n > maxKeyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxKeyFile)
	}
	return buf.Bytes(), nil
}

// loadPrivateKey reads a PEM "PRIVATE KEY" (PKCS #8) Ed25519 or P-256 key.
func loadPrivateKey(name string) (crypto.Signer, error) {
	data, err := readLimited(name)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block; want a PKCS #8 \"PRIVATE KEY\" (apptoken keygen writes one)", name)
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: a PEM %q block; want a PKCS #8 \"PRIVATE KEY\" (apptoken keygen writes one)", name, block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	switch k := k.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s: ECDSA key on %s: only P-256 (ES256) is supported", name, k.Curve.Params().Name)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("%s: a %T key: only Ed25519 and ECDSA P-256 keys are supported", name, k)
	}
}

// publicKey is a verification key with the alg it is bound to and its kid
// ("" when the file gives none).
type publicKey struct {
	key crypto.PublicKey
	alg string
	kid string
}

// loadPublicKeys reads verification keys from a file: one or more PEM
// "PUBLIC KEY" blocks, or a JWK Set (a JSON object with "keys"). A PEM
// key's kid is its thumbprint, as keygen and mint make it.
func loadPublicKeys(name string) ([]publicKey, error) {
	data, err := readLimited(name)
	if err != nil {
		return nil, err
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		return parseJWKSet(name, trimmed)
	}
	var keys []publicKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%s: a PEM %q block; want \"PUBLIC KEY\" blocks or a JWK Set", name, block.Type)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		jwk, err := publicJWK(pub)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		keys = append(keys, publicKey{key: pub, alg: jwk.Alg, kid: jwk.Kid})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no key: want PEM \"PUBLIC KEY\" blocks or a JWK Set", name)
	}
	return keys, nil
}

func parseJWKSet(name string, data []byte) ([]publicKey, error) {
	var set jwkSet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%s: not a JWK Set: %w", name, err)
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("%s: the JWK Set has no keys", name)
	}
	keys := make([]publicKey, 0, len(set.Keys))
	for i, k := range set.Keys {
		pk, err := k.public()
		if err != nil {
			return nil, fmt.Errorf("%s: key %d: %w", name, i, err)
		}
		keys = append(keys, pk)
	}
	return keys, nil
}

// public decodes k. Its alg, when given, must be the one of its key type.
func (k jwkKey) public() (publicKey, error) {
	dec := base64.RawURLEncoding.DecodeString
	var pk publicKey
	switch {
	case k.Kty == "OKP" && k.Crv == "Ed25519":
		x, err := dec(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return pk, errors.New("x is not a base64url Ed25519 public key")
		}
		pk = publicKey{key: ed25519.PublicKey(x), alg: algEdDSA}
	case k.Kty == "EC" && k.Crv == "P-256":
		x, errX := dec(k.X)
		y, errY := dec(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return pk, errors.New("x and y are not base64url P-256 coordinates")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return pk, err
		}
		pk = publicKey{key: pub, alg: algES256}
	default:
		return pk, fmt.Errorf("kty %q crv %q: only OKP Ed25519 and EC P-256 keys are supported", k.Kty, k.Crv)
	}
	if k.Alg != "" && k.Alg != pk.alg {
		return pk, fmt.Errorf("alg %q does not match the key type (%s)", k.Alg, pk.alg)
	}
	if k.Use != "" && k.Use != "sig" {
		return pk, fmt.Errorf("use %q: want \"sig\"", k.Use)
	}
	pk.kid = k.Kid
	return pk, nil
}
