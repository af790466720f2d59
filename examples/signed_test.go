package examples_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apptoken-go/apptoken/jwt/jwttest"
)

// TestSignedTokens starts every service with APP_API_TOKEN_KEYS and
// APP_API_TOKEN_AUDIENCE and no APP_API_TOKEN: a token signed for its
// audience is accepted; one for another audience, an expired one, one
// signed with another key and the plain token are refused.
func TestSignedTokens(t *testing.T) {
	signer := jwttest.NewSigner(t)
	keys := filepath.Join(t.TempDir(), "app-token-keys.pem")
	if err := os.WriteFile(keys, signer.PublicPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	good := signer.Mint(t, "orders", time.Hour)
	refused := map[string]string{
		"for another app":       signer.Mint(t, "payments", time.Hour),
		"expired":               signer.Mint(t, "orders", -time.Hour),
		"signed with other key": jwttest.NewSigner(t).Mint(t, "orders", time.Hour),
		"the plain token":       token,
	}
	forEach(t, func(t *testing.T, fw string) {
		p := serve(t, fw, "APP_API_TOKEN_KEYS="+keys, "APP_API_TOKEN_AUDIENCE=orders")
		if r := p.call(t, "POST", "/orders", good, order); r.status != http.StatusOK || r.body != order {
			t.Errorf("a token signed for orders: %d %q", r.status, r.body)
		}
		if r := p.call(t, "GET", "/healthz", "", ""); r.status != http.StatusOK {
			t.Errorf("GET /healthz: %d", r.status)
		}
		for name, tok := range refused {
			if r := p.call(t, "POST", "/orders", tok, order); r.status != http.StatusUnauthorized {
				t.Errorf("a token %s: %d, want 401", name, r.status)
			}
		}
		out := p.out.String()
		for _, tok := range append([]string{good}, refused["for another app"]) {
			if strings.Contains(out, tok) {
				t.Error("the log holds a token")
			}
		}
	})
}

// TestBadKeyFileExits: a key file that cannot be used stops the service
// at start, with a message that names it.
func TestBadKeyFileExits(t *testing.T) {
	dir := t.TempDir()
	priv := filepath.Join(dir, "private.pem")
	if err := os.WriteFile(priv, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ path, want string }{
		"missing":       {filepath.Join(dir, "missing.pem"), "missing.pem"},
		"a private key": {priv, "give the app the public key only"},
	} {
		t.Run(name, func(t *testing.T) {
			p := run(t, "gin", childEnv("APP_PORT=1", "APP_API_TOKEN_KEYS="+c.path))
			if code := p.wait(t, 15*time.Second); code == 0 {
				t.Error("exit code 0, want non-zero")
			}
			if out := p.out.String(); !strings.Contains(out, c.want) {
				t.Errorf("output does not say %q:\n%s", c.want, out)
			}
		})
	}
}
