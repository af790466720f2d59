package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/e2e/internal/harness"
	apptokenjwt "github.com/apptoken-go/apptoken/jwt"
)

// TestCommandTokensVerifyWithJWTModule: the keys `apptoken keygen` writes
// (PEM and JWK Set) and the tokens `apptoken mint` signs with them are what
// the jwt module's verifier accepts, for the audience minted and no other,
// until exp; and `apptoken inspect -keys` says of each token what that
// verifier decides. The command keeps its own verification (its module
// requires none of ours, so that `go install ...@version` works), so this
// is where the two are held to agree.
func TestCommandTokensVerifyWithJWTModule(t *testing.T) {
	root, err := harness.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "apptoken")
	if err := harness.BuildCommand(root, bin); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	must := func(args ...string) {
		t.Helper()
		if out, err := run("", args...); err != nil {
			t.Fatalf("apptoken %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	for _, typ := range []string{"ed25519", "p256"} {
		t.Run(typ, func(t *testing.T) {
			prefix := filepath.Join(dir, typ)
			must("keygen", "-type", typ, "-out", prefix, "-jwks", prefix+".jwks")
			must("keygen", "-type", typ, "-out", prefix+"-other")
			mint := func(name string, args ...string) string {
				t.Helper()
				must(append([]string{"mint", "-key", prefix + ".key", "-o", filepath.Join(dir, typ+"-"+name)}, args...)...)
				return string(read(typ + "-" + name))
			}
			tokens := map[string]string{
				"for orders":        mint("orders", "-aud", "orders", "-ttl", "720h"),
				"for two apps":      mint("two", "-aud", "payments", "-aud", "orders", "-ttl", "1h"),
				"for payments":      mint("payments", "-aud", "payments", "-ttl", "720h"),
				"expiring in 2s":    mint("short", "-aud", "orders", "-ttl", "2s"),
				"with an issuer":    mint("iss", "-aud", "orders", "-iss", "fleet", "-ttl", "1h"),
				"another key's kid": mint("kid", "-aud", "orders", "-kid", "retired", "-ttl", "1h"),
			}
			must("mint", "-key", prefix+"-other.key", "-o", filepath.Join(dir, typ+"-foreign"), "-aud", "orders", "-ttl", "1h")
			tokens["signed with another key"] = string(read(typ + "-foreign"))
			want := map[string]apptoken.Decision{
				"for orders": apptoken.Accepted, "for two apps": apptoken.Accepted, "with an issuer": apptoken.Accepted,
				"expiring in 2s": apptoken.Accepted, "for payments": apptoken.WrongAudience,
				"another key's kid": apptoken.UnknownKey, "signed with another key": apptoken.UnknownKey, // its kid is that key's thumbprint
			}
			for _, keys := range []string{".pub", ".jwks"} {
				m, _, err := apptokenjwt.Keys(read(typ+keys), apptokenjwt.WithAudience("orders")).Load()
				if err != nil {
					t.Fatalf("the jwt module cannot load %s%s: %v", typ, keys, err)
				}
				for name, tok := range tokens {
					d, _ := m.Match(tok)
					if d != want[name] {
						t.Errorf("%s, keys %s: the jwt module decides %v, want %v", name, keys, d, want[name])
					}
					out, err := run(tok, "inspect", "-keys", prefix+keys, "-aud", "orders")
					if (err == nil) != (d == apptoken.Accepted) {
						t.Errorf("%s, keys %s: the jwt module decides %v, but inspect exits %v:\n%s", name, keys, d, err, out)
					}
					if strings.Contains(out, tok) {
						t.Errorf("inspect printed the token")
					}
				}
			}
			// After exp the module refuses what it accepted.
			later := time.Now().Add(3 * time.Second)
			m, _, err := apptokenjwt.Keys(read(typ+".pub"), apptokenjwt.WithAudience("orders"),
				apptokenjwt.WithLeeway(0), apptokenjwt.WithClock(func() time.Time { return later })).Load()
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := m.Match(tokens["expiring in 2s"]); d != apptoken.Expired {
				t.Errorf("a minted token after its exp: %v, want expired", d)
			}
		})
	}
}
