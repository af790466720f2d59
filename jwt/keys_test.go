package apptokenjwt_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenjwt "github.com/apptoken-go/apptoken/jwt"
	"github.com/golang-jwt/jwt/v5"
)

func pemOf(t *testing.T, typ string, key any) []byte {
	t.Helper()
	var der []byte
	var err error
	if typ == "PRIVATE KEY" {
		der, err = x509.MarshalPKCS8PrivateKey(key)
	} else {
		der, err = x509.MarshalPKIXPublicKey(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestKeyFileErrors(t *testing.T) {
	k := testKeys(t)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // G403: too small on purpose: the loader must refuse it
	for _, c := range []struct {
		name, data, want string
	}{
		{"empty", "", "no key found"},
		{"garbage", "hello", "neither PEM nor JSON"},
		{"a private key", string(pemOf(t, "PRIVATE KEY", edPriv)), "give the app the public key only"},
		{"a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "want PUBLIC KEY"},
		{"P-384", string(pemOf(t, "PUBLIC KEY", &p384.PublicKey)), "want P-256"},
		{"RSA 1024", string(pemOf(t, "PUBLIC KEY", &small.PublicKey)), "RSA key of 1024 bits"},
		{"JWK with d", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`, "private key"},
		{"JWK alg not the key's", `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"HS256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, `alg "HS256" cannot be used with a Ed25519 key`},
		{"JWK for encryption", `{"keys":[{"kty":"OKP","crv":"Ed25519","use":"enc","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, `use "enc"`},
		{"JWK x too short", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qY"}]}`, `member "x" has 3 bytes`},
		{"JWK EC point off the curve", `{"keys":[{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`, "EC point"},
		{"JWK HMAC secret too short", `{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}`, "HMAC secret of 5 bytes"},
		{"JWK unknown kty", `{"keys":[{"kty":"ML-DSA"}]}`, `kty "ML-DSA"`},
		{"JWK Set not JSON", `{"keys":[`, "JWK Set"},
		{"duplicate kid", string(jwks(t, k["EdDSA"], k["EdDSA"])), "appears twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := apptokenjwt.Keys([]byte(c.data)).Load()
			if !errors.Is(err, apptokenjwt.ErrInvalidKeys) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Load: %v, want ErrInvalidKeys saying %q", err, c.want)
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	for name, opt := range map[string]apptokenjwt.Option{
		"empty audience":  apptokenjwt.WithAudience(""),
		"no issuer":       apptokenjwt.WithIssuers(),
		"negative leeway": apptokenjwt.WithLeeway(-time.Second),
		"huge leeway":     apptokenjwt.WithLeeway(time.Hour),
		"zero lifetime":   apptokenjwt.WithMaxLifetime(0),
		"nil clock":       apptokenjwt.WithClock(nil),
		"an empty issuer": apptokenjwt.WithIssuers("a", ""),
	} {
		_, err := apptoken.New(apptoken.WithMatcher(apptokenjwt.Keys(testKeys(t)["EdDSA"].pemKey, opt)))
		if !errors.Is(err, apptoken.ErrInvalidOption) {
			t.Errorf("%s: New: %v, want ErrInvalidOption", name, err)
		}
	}
}

// TestThumbprint checks the kid of a key given without one against RFC
// 8037's example key (appendix A.3): a token signed with the example's
// private key and that kid is accepted.
func TestThumbprint(t *testing.T) {
	const x, d, kid = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
	got, err := apptokenjwt.Thumbprint(ed25519.PublicKey(mustB64(t, x)))
	if err != nil || got != kid {
		t.Errorf("Thumbprint = %q, %v; want RFC 8037's %s", got, err, kid)
	}
	m := load(t, []byte(`{"kty":"OKP","crv":"Ed25519","x":"`+x+`"}`))
	s := &signer{alg: jwt.SigningMethodEdDSA, priv: ed25519.NewKeyFromSeed(mustB64(t, d)), kid: kid}
	if got, _ := m.Match(mint(t, s, claims(nil), nil)); got != apptoken.Accepted {
		t.Errorf("a token with the thumbprint as kid: %v", got)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64dec(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeyFileReload rotates keys in a file under a running verifier: a key
// added is used at once, a key retired stops working (tokens it accepted
// are forgotten), and a broken file keeps the last good keys.
func TestKeyFileReload(t *testing.T) {
	k := testKeys(t)
	oldKey, newKey := k["EdDSA"], k["ES256"]
	path := filepath.Join(t.TempDir(), "keys.pem")
	write := func(data []byte) {
		t.Helper()
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(oldKey.pemKey)
	events := make(chan apptoken.Event, 16)
	v, err := apptoken.New(
		apptoken.WithMatcher(apptokenjwt.KeyFile(path, apptokenjwt.WithAudience("orders"))),
		apptoken.WithReloadInterval(20*time.Millisecond), apptoken.WithEventLog(nil),
		apptoken.WithEventHook(func(e apptoken.Event) {
			if e.Kind == apptoken.EventReloaded || e.Kind == apptoken.EventReloadFailed {
				events <- e // not the expiry warnings of the tokens remembered
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	real := claims(map[string]any{"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	oldTok, newTok := mint(t, oldKey, real, nil), mint(t, newKey, real, nil)
	verify := func(step, tok string, want apptoken.Decision) {
		t.Helper()
		if got := v.Verify("POST", "/orders", []string{tok}); got != want {
			t.Errorf("%s: %v, want %v", step, got, want)
		}
	}
	next := func(want apptoken.EventKind) {
		t.Helper()
		select {
		case e := <-events:
			if e.Kind != want {
				t.Fatalf("event %v (%v), want %v", e.Kind, e.Err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %v event", want)
		}
	}
	verify("old key", oldTok, apptoken.Accepted)
	verify("new key, not yet added", newTok, apptoken.UnknownKey)

	write(append(append([]byte{}, oldKey.pemKey...), newKey.pemKey...))
	next(apptoken.EventReloaded)
	verify("both keys: old", oldTok, apptoken.Accepted)
	verify("both keys: new", newTok, apptoken.Accepted)

	write(newKey.pemKey)
	next(apptoken.EventReloaded)
	verify("old key retired", oldTok, apptoken.UnknownKey)
	verify("new key", newTok, apptoken.Accepted)

	write([]byte("-----BEGIN PUBLIC KEY-----\nhalf"))
	next(apptoken.EventReloadFailed)
	verify("broken file: last good keys", newTok, apptoken.Accepted)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	next(apptoken.EventReloadFailed)
	verify("file gone: last good keys", newTok, apptoken.Accepted)
}

func TestKeyFileAtStart(t *testing.T) {
	dir := t.TempDir()
	_, err := apptoken.New(apptoken.WithMatcher(apptokenjwt.KeyFile(filepath.Join(dir, "missing.pem"))))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing file: %v", err)
	}
	_, err = apptoken.New(apptoken.WithMatcher(apptokenjwt.KeyFile(dir)))
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	ed := testKeys(t)["EdDSA"]
	path := filepath.Join(t.TempDir(), "keys.pem")
	if err := os.WriteFile(path, ed.pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(apptokenjwt.KeysEnvVar, "")
	if _, ok := apptokenjwt.FromEnv(); ok {
		t.Error("FromEnv with no key file set: ok")
	}
	t.Setenv(apptokenjwt.KeysEnvVar, path)
	t.Setenv(apptokenjwt.AudienceEnvVar, "orders")
	src, ok := apptokenjwt.FromEnv(apptokenjwt.WithClock(clock))
	if !ok {
		t.Fatal("FromEnv: not ok")
	}
	m, _, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Match(mint(t, ed, claims(map[string]any{"aud": "payments"}), nil)); got != apptoken.WrongAudience {
		t.Errorf("audience from the environment not applied: %v", got)
	}
	if !strings.Contains(src.String(), path) {
		t.Errorf("String() = %q, want the path", src.String())
	}
}
