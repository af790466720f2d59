package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apptoken-go/apptoken/jwt/jwttest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRunSignedTokens runs the app with APP_API_TOKEN_KEYS and
// APP_API_TOKEN_AUDIENCE and no APP_API_TOKEN: a token signed for orders
// is accepted; one for another app, an expired one and one signed with
// another key are refused.
func TestRunSignedTokens(t *testing.T) {
	signer := jwttest.NewSigner(t)
	keys := filepath.Join(t.TempDir(), "keys.pem")
	if err := os.WriteFile(keys, signer.PublicPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	unsetenv(t, "APP_API_TOKEN")
	unsetenv(t, "APP_API_TOKEN_FILE")
	unsetenv(t, "APPTOKEN_LEGACY_SIDECAR")
	unsetenv(t, "METRICS_PORT")
	t.Setenv("APP_PORT", "0")
	t.Setenv("APP_API_TOKEN_KEYS", keys)
	t.Setenv("APP_API_TOKEN_AUDIENCE", "orders")

	app := startRun(t)
	conn := client(t, app.addr.String(), nil)
	if err := call(t, conn, mOnInvoke, []string{signer.Mint(t, "orders", time.Hour)}, &invokeRequest{}, &invokeResponse{}); err != nil {
		t.Errorf("a token signed for orders: %v", err)
	}
	for name, tok := range map[string]string{
		"for another app":         signer.Mint(t, "payments", time.Hour),
		"expired":                 signer.Mint(t, "orders", -time.Hour),
		"signed with another key": jwttest.NewSigner(t).Mint(t, "orders", time.Hour),
	} {
		if err := call(t, conn, mOnInvoke, []string{tok}, &invokeRequest{}, &invokeResponse{}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("a token %s: %v, want Unauthenticated", name, err)
		}
	}
	app.stop(t)
}
