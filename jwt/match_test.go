package apptokenjwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenjwt "github.com/apptoken-go/apptoken/jwt"
	"github.com/golang-jwt/jwt/v5"
)

// now is the fixed time the claims table is checked at.
var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// signer is a key pair of one algorithm, with the kid it is known by.
type signer struct {
	alg    jwt.SigningMethod
	priv   crypto.PrivateKey
	pub    crypto.PublicKey
	kid    string
	pemKey []byte // the public key as PEM; nil for an HMAC secret
}

var (
	keysOnce sync.Once
	keys     map[string]*signer
)

// testKeys makes one key of each algorithm, once: RSA keys are slow to make.
func testKeys(t testing.TB) map[string]*signer {
	t.Helper()
	keysOnce.Do(func() {
		keys = map[string]*signer{}
		edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
		keys["EdDSA"] = &signer{alg: jwt.SigningMethodEdDSA, priv: edPriv, pub: edPub}
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		keys["ES256"] = &signer{alg: jwt.SigningMethodES256, priv: ec, pub: &ec.PublicKey}
		rk, _ := rsa.GenerateKey(rand.Reader, 2048)
		keys["RS256"] = &signer{alg: jwt.SigningMethodRS256, priv: rk, pub: &rk.PublicKey}
		keys["PS256"] = &signer{alg: jwt.SigningMethodPS256, priv: rk, pub: &rk.PublicKey, kid: "rsa-pss"}
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		keys["HS256"] = &signer{alg: jwt.SigningMethodHS256, priv: secret, pub: secret, kid: "hmac"}
		for _, s := range keys {
			if _, ok := s.pub.([]byte); ok {
				continue
			}
			der, _ := x509.MarshalPKIXPublicKey(s.pub)
			s.pemKey = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			if s.kid == "" {
				s.kid, _ = apptokenjwt.Thumbprint(s.pub)
			}
		}
	})
	return keys
}

// jwks returns a JWK Set of the given signers' public keys (secrets for
// HMAC), each with its kid and alg.
func jwks(t testing.TB, signers ...*signer) []byte {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	for _, s := range signers {
		k := map[string]string{"kid": s.kid, "alg": s.alg.Alg(), "use": "sig"}
		switch p := s.pub.(type) {
		case ed25519.PublicKey:
			k["kty"], k["crv"], k["x"] = "OKP", "Ed25519", enc(p)
		case *ecdsa.PublicKey:
			b, _ := p.Bytes()
			k["kty"], k["crv"], k["x"], k["y"] = "EC", "P-256", enc(b[1:33]), enc(b[33:])
		case *rsa.PublicKey:
			k["kty"], k["n"], k["e"] = "RSA", enc(p.N.Bytes()), enc([]byte{1, 0, 1})
		case []byte:
			k["kty"], k["k"] = "oct", enc(p)
		}
		set.Keys = append(set.Keys, k)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mint signs claims with s, with header fields added or, when nil,
// removed.
func mint(t testing.TB, s *signer, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.alg, claims)
	tok.Header["kid"] = s.kid
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	signed, err := tok.SignedString(s.priv)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// claims returns valid claims for audience "orders", issued a minute ago,
// expiring in an hour, with changes (a nil value removes the claim).
func claims(changes map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"aud": "orders",
		"iss": "fleet-signer",
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// load returns the matcher of a Keys source.
func load(t testing.TB, data []byte, opts ...apptokenjwt.Option) apptoken.Matcher {
	t.Helper()
	m, _, err := apptokenjwt.Keys(data, append([]apptokenjwt.Option{apptokenjwt.WithClock(clock)}, opts...)...).Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestClaimsTable is the table of what a signed token can get wrong.
func TestClaimsTable(t *testing.T) {
	k := testKeys(t)
	ed := k["EdDSA"]
	otherPub, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	impostor := &signer{alg: jwt.SigningMethodEdDSA, priv: otherPriv, pub: otherPub, kid: ed.kid}
	valid := mint(t, ed, claims(nil), nil)
	parts := strings.Split(valid, ".")
	hmacWithRSAPEM := &signer{alg: jwt.SigningMethodHS256, priv: k["RS256"].pemKey, kid: k["RS256"].kid}
	tamperedSig := []byte(parts[2]) // one character changed, still base64url
	tamperedSig[10] = map[bool]byte{true: 'B', false: 'A'}[tamperedSig[10] == 'A']

	set := jwks(t, k["EdDSA"], k["ES256"], k["RS256"], k["PS256"], k["HS256"])
	m := load(t, set, apptokenjwt.WithAudience("orders"), apptokenjwt.WithIssuers("fleet-signer", "other-signer"),
		apptokenjwt.WithMaxLifetime(24*time.Hour))

	cases := []struct {
		name  string
		token string
		want  apptoken.Decision
	}{
		{"valid EdDSA", valid, apptoken.Accepted},
		{"valid ES256", mint(t, k["ES256"], claims(nil), nil), apptoken.Accepted},
		{"valid RS256", mint(t, k["RS256"], claims(nil), nil), apptoken.Accepted},
		{"valid PS256", mint(t, k["PS256"], claims(nil), nil), apptoken.Accepted},
		{"valid HS256", mint(t, k["HS256"], claims(nil), nil), apptoken.Accepted},
		{"aud as a list holding ours", mint(t, ed, claims(map[string]any{"aud": []string{"payments", "orders"}}), nil), apptoken.Accepted},
		{"other allowed issuer", mint(t, ed, claims(map[string]any{"iss": "other-signer"}), nil), apptoken.Accepted},
		{"expired within the leeway", mint(t, ed, claims(map[string]any{"exp": now.Add(-10 * time.Second).Unix()}), nil), apptoken.Accepted},

		{"expired", mint(t, ed, claims(map[string]any{"exp": now.Add(-time.Minute).Unix()}), nil), apptoken.Expired},
		{"no exp", mint(t, ed, claims(map[string]any{"exp": nil}), nil), apptoken.Malformed},
		{"exp not a number", mint(t, ed, claims(map[string]any{"exp": "tomorrow"}), nil), apptoken.Malformed},
		{"not yet valid (nbf)", mint(t, ed, claims(map[string]any{"nbf": now.Add(time.Minute).Unix()}), nil), apptoken.NotYetValid},
		{"issued in the future", mint(t, ed, claims(map[string]any{"iat": now.Add(time.Minute).Unix()}), nil), apptoken.NotYetValid},
		{"lifetime longer than allowed", mint(t, ed, claims(map[string]any{"exp": now.Add(48 * time.Hour).Unix()}), nil), apptoken.Malformed},
		{"wrong audience", mint(t, ed, claims(map[string]any{"aud": "payments"}), nil), apptoken.WrongAudience},
		{"no audience", mint(t, ed, claims(map[string]any{"aud": nil}), nil), apptoken.WrongAudience},
		{"audience of another case", mint(t, ed, claims(map[string]any{"aud": "Orders"}), nil), apptoken.WrongAudience},
		{"issuer not allowed", mint(t, ed, claims(map[string]any{"iss": "someone"}), nil), apptoken.WrongIssuer},
		{"no issuer", mint(t, ed, claims(map[string]any{"iss": nil}), nil), apptoken.WrongIssuer},
		{"unknown kid", mint(t, ed, claims(nil), map[string]any{"kid": "retired-key"}), apptoken.UnknownKey},
		{"kid not a string", mint(t, ed, claims(nil), map[string]any{"kid": 7}), apptoken.UnknownKey},
		{"wrong key, same kid", mint(t, impostor, claims(nil), nil), apptoken.BadSignature},
		{"alg none", b64(`{"alg":"none","typ":"JWT","kid":"`+ed.kid+`"}`) + "." + parts[1] + ".", apptoken.UnknownKey},
		{"alg missing", b64(`{"typ":"JWT","kid":"`+ed.kid+`"}`) + "." + parts[1] + "." + parts[2], apptoken.UnknownKey},
		{"alg unknown", b64(`{"alg":"XS999","kid":"`+ed.kid+`"}`) + "." + parts[1] + "." + parts[2], apptoken.UnknownKey},
		{"alg switched: HS256 keyed with the RSA public key", mint(t, hmacWithRSAPEM, claims(nil), nil), apptoken.UnknownKey},
		{"alg switched: ES256 named, EdDSA key's kid", b64(`{"alg":"ES256","kid":"`+ed.kid+`"}`) + "." + parts[1] + "." + parts[2], apptoken.UnknownKey},
		{"tampered payload", parts[0] + "." + b64(`{"aud":"orders","iss":"fleet-signer","exp":`+fmt.Sprint(now.Add(2*time.Hour).Unix())+`}`) + "." + parts[2], apptoken.BadSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(tamperedSig), apptoken.BadSignature},
		{"signature removed", parts[0] + "." + parts[1] + ".", apptoken.BadSignature},
		{"signature with padding", valid + "==", apptoken.Malformed},
		{"JWS with an extra segment", valid + "." + parts[2], apptoken.Malformed},
		{"JWE (five segments)", parts[0] + ".." + parts[1] + "." + parts[2] + ".tag", apptoken.Malformed},
		{"crit header", mint(t, ed, claims(nil), map[string]any{"crit": []string{"exp"}}), apptoken.Malformed},
		{"header not JSON", b64("not json") + "." + parts[1] + "." + parts[2], apptoken.Malformed},
		{"claims not JSON", parts[0] + "." + b64("[1,2") + "." + parts[2], apptoken.Malformed},
		{"not base64", "%%%." + parts[1] + "." + parts[2], apptoken.Malformed},
		{"a plain token", "wQ7mZr2Xo9kLp4Vd8sNe1TbYc6Hj3FgAq0Ux5RaKi-M", apptoken.Malformed},
		{"Bearer prefix", "Bearer " + valid, apptoken.Malformed},
		{"oversized, within MaxTokenLength", parts[0] + "." + strings.Repeat("A", 4000) + "." + parts[2], apptoken.Malformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ttl := m.Match(c.token)
			if got != c.want {
				t.Fatalf("Match = %v, want %v", got, c.want)
			}
			if got == apptoken.Accepted && c.name != "expired within the leeway" && ttl <= 59*time.Minute {
				t.Errorf("ttl %v, want the hour to exp", ttl)
			}
			if got != apptoken.Accepted && ttl != 0 {
				t.Errorf("a rejection with ttl %v", ttl)
			}
		})
	}
}

// TestThroughVerifier checks what the core adds: limits, the token taken
// off, an oversized value refused unread, exact tokens beside signed
// ones, and an accepted token that stops being accepted at its exp.
func TestThroughVerifier(t *testing.T) {
	k := testKeys(t)
	ed := k["EdDSA"]
	v, err := apptoken.New(
		apptoken.WithTokens("a-plain-token-during-the-migration"),
		apptoken.WithMatcher(apptokenjwt.Keys(ed.pemKey, apptokenjwt.WithAudience("orders"), apptokenjwt.WithLeeway(0))),
		apptoken.WithEventLog(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	real := time.Now()
	expAt := time.Unix(real.Unix()+2, 0) // exp is in whole seconds
	short := mint(t, ed, jwt.MapClaims{"aud": "orders", "iat": real.Unix(), "exp": expAt.Unix()}, nil)
	for _, c := range []struct {
		name   string
		values []string
		want   apptoken.Decision
	}{
		{"signed", []string{short}, apptoken.Accepted},
		{"signed again (remembered)", []string{short}, apptoken.Accepted},
		{"plain", []string{"a-plain-token-during-the-migration"}, apptoken.Accepted},
		{"too long", []string{short + strings.Repeat("A", apptoken.MaxTokenLength)}, apptoken.TooLong},
		{"caller's token, then the app token", []string{"dapr-api-token-of-the-caller", short}, apptoken.Accepted},
	} {
		if got := v.Verify("POST", "/orders", c.values); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if exp := v.Status().Expiry; !exp.Equal(expAt) {
		t.Errorf("Status().Expiry = %v, want the signed token's exp", exp)
	}
	deadline := time.Now().Add(10 * time.Second)
	for v.Verify("POST", "/orders", []string{short}) == apptoken.Accepted {
		if time.Now().After(deadline) {
			t.Fatal("the token is still accepted long after its exp")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := v.Verify("POST", "/orders", []string{short}); got != apptoken.Expired {
		t.Errorf("after exp: %v, want expired", got)
	}
	if time.Now().Before(expAt) {
		t.Error("refused before its exp")
	}
}

func TestTokenWithoutKid(t *testing.T) {
	k := testKeys(t)
	ed, es := k["EdDSA"], k["ES256"]
	noKid := map[string]any{"kid": nil}
	one := load(t, ed.pemKey)
	if got, _ := one.Match(mint(t, ed, claims(nil), noKid)); got != apptoken.Accepted {
		t.Errorf("no kid, one EdDSA key: %v", got)
	}
	mixed := load(t, append(append([]byte{}, ed.pemKey...), es.pemKey...))
	if got, _ := mixed.Match(mint(t, es, claims(nil), noKid)); got != apptoken.Accepted {
		t.Errorf("no kid, one key per algorithm: %v", got)
	}
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(otherPub)
	two := load(t, append(append([]byte{}, ed.pemKey...), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})...))
	if got, _ := two.Match(mint(t, ed, claims(nil), noKid)); got != apptoken.UnknownKey {
		t.Errorf("no kid, two EdDSA keys: %v, want unknown_key", got)
	}
	if got, _ := two.Match(mint(t, ed, claims(nil), nil)); got != apptoken.Accepted {
		t.Errorf("with its kid, two EdDSA keys: %v", got)
	}
}

func TestWithoutAudienceAcceptsAny(t *testing.T) {
	ed := testKeys(t)["EdDSA"]
	m := load(t, ed.pemKey)
	if got, _ := m.Match(mint(t, ed, claims(map[string]any{"aud": "payments"}), nil)); got != apptoken.Accepted {
		t.Errorf("no audience configured: %v", got)
	}
}

func b64dec(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
