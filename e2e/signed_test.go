package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apptoken-go/apptoken/e2e/internal/harness"
	"github.com/apptoken-go/apptoken/jwt/jwttest"
)

// TestSignedTokens runs the gin example with signed tokens behind the
// newest daprd: the app holds only a public key (APP_API_TOKEN_KEYS) and
// its audience (APP_API_TOKEN_AUDIENCE=orders), and daprd's APP_API_TOKEN
// is an EdDSA token minted for it. Invocation and pub/sub work; a daprd
// with a token for another app, or an expired one, is refused; and a new
// token needs only a daprd restart: the app runs on untouched.
func TestSignedTokens(t *testing.T) {
	v := daprdVersions[len(daprdVersions)-1]
	if os.Getenv(v.Env) == "" {
		t.Skipf("%s is unset: run `make e2e`", v.Env)
	}
	root, err := harness.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := daprdBinary(t, v.Version, v.Env)
	bins := examples(t, root)

	signer := jwttest.NewSigner(t)
	keys := filepath.Join(t.TempDir(), "app-token-keys.pem")
	if err := os.WriteFile(keys, signer.PublicPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	const app = "gin"
	a, err := harness.StartApp(context.Background(), harness.AppConfig{
		Name: v.Version + "/" + app + " app (signed tokens)", Bin: bins[app], Protocol: harness.ProtoHTTP, Dir: root,
		Env: []string{"APP_API_TOKEN_KEYS=" + keys, "APP_API_TOKEN_AUDIENCE=orders"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAndReport(t, a.Proc) })
	first := signer.Mint(t, "orders", time.Hour)
	p := &pair{version: v.Version, app: app, proto: harness.ProtoHTTP, root: root, bin: bin, a: a,
		api: &httpAPI{addr: a.Addr(), appToken: first}}

	// sidecar starts a daprd in front of the app with appToken and waits
	// until it finds the app healthy.
	sidecar := func(name, appToken string) *harness.Daprd {
		t.Helper()
		d, err := harness.StartDaprd(context.Background(), harness.DaprdConfig{
			Name: v.Version + "/" + app + " daprd (" + name + ")", Bin: bin, Root: root,
			AppPort: a.Port, AppProtocol: harness.ProtoHTTP, AppToken: appToken, HealthCheck: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stopAndReport(t, d.Proc) })
		if err := d.WaitAppHealthy(context.Background(), 20*time.Second); err != nil {
			t.Fatal(err)
		}
		return d
	}
	invoke := func(d *harness.Daprd, id string) (status, counted int) {
		t.Helper()
		before := p.mustStats(t)
		resp, err := invokeVia(ctxT(t, 15*time.Second), d, "", id)
		if err != nil {
			t.Fatalf("invoke: %v", err)
		}
		if strings.Contains(string(resp.Body), first) {
			t.Error("the answer holds the token")
		}
		return resp.Status, p.mustStats(t).Orders - before.Orders
	}

	d := sidecar("token for orders", first)
	if status, n := invoke(d, "signed-1"); status != 200 || n != 1 {
		t.Errorf("invoke with a token signed for orders: %d, counted %d; want 200, counted 1", status, n)
	}
	if !waitSubscribed(t, d, "", 15*time.Second) {
		t.Fatal("daprd did not register the app's subscription")
	}
	events := p.mustStats(t).Events
	if resp, err := publishVia(ctxT(t, 10*time.Second), d, "", "signed-event"); err != nil || resp.Status/100 != 2 {
		t.Fatalf("publish: %v %v", resp, err)
	}
	if got := p.waitEvents(t, events+1, 15*time.Second); got != events+1 {
		t.Errorf("pub/sub with a signed token: %d events, want %d", got, events+1)
	}
	d.Stop(harness.DefaultStopTimeout)

	for _, c := range []struct{ name, token, decision string }{
		{"token for payments", signer.Mint(t, "payments", time.Hour), "wrong_audience"},
		{"expired token", signer.Mint(t, "orders", -time.Minute), "expired"},
	} {
		mark := a.Log.Len()
		bad := sidecar(c.name, c.token)
		status, n := invoke(bad, "refused")
		logged := strings.Count(a.Log.Since(mark), "decision="+c.decision)
		if status != 401 || n != 0 || logged == 0 {
			t.Errorf("daprd with a %s: %d, counted %d, %d rejections logged as %s; want 401, nothing counted, logged",
				c.name, status, n, logged, c.decision)
		}
		bad.Stop(harness.DefaultStopTimeout)
	}

	// Rotation: a new token, daprd restarted with it, the app untouched.
	next := signer.Mint(t, "orders", 2*time.Hour)
	pid := a.Pid()
	d = sidecar("new token", next)
	if status, n := invoke(d, "signed-2"); status != 200 || n != 1 {
		t.Errorf("invoke after minting a new token and restarting daprd: %d, counted %d", status, n)
	}
	if a.Pid() != pid || a.Exited() {
		t.Error("the app was restarted")
	}
	if out := a.Log.String(); strings.Contains(out, first) || strings.Contains(out, next) {
		t.Error("the app's log holds a token")
	}
	fmt.Printf("signed tokens behind daprd %s: invocation and pub/sub accepted; another audience and an expired token refused; a new token needed only a daprd restart\n", v.Version)
}
