package apptokenjwt_test

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenjwt "github.com/apptoken-go/apptoken/jwt"
)

// A verifier that accepts the tokens signed for the app "orders" with the
// keys of a file, read again when it changes.
func ExampleKeyFile() {
	dir, _ := os.MkdirTemp("", "keys")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app-token-keys.pem")
	_ = os.WriteFile(path, []byte(examplePublicKey), 0o600)

	v, err := apptoken.New(apptoken.WithMatcher(
		apptokenjwt.KeyFile(path, apptokenjwt.WithAudience("orders"))))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	r, _ := http.NewRequest(http.MethodPost, "/orders", nil)
	r.Header.Set(apptoken.HeaderName, "not-a-signed-token")
	fmt.Println(v.Admit(r))
	// Output: malformed
}

// During a migration from a plain token to signed ones, accept both: the
// plain token daprd sends today (APP_API_TOKEN) and the signed tokens of
// APP_API_TOKEN_KEYS, for the audience in APP_API_TOKEN_AUDIENCE.
func ExampleFromEnv() {
	opts := []apptoken.Option{apptoken.WithSource(apptoken.DefaultSource())}
	if keys, ok := apptokenjwt.FromEnv(); ok {
		opts = append(opts, apptoken.WithMatcher(keys))
	}
	v, err := apptoken.New(opts...)
	if err != nil {
		log.Print(err)
		return
	}
	defer v.Close()
}

// An Ed25519 public key, as `apptoken keygen` writes it.
const examplePublicKey = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
-----END PUBLIC KEY-----
`
