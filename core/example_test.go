package apptoken_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	apptoken "github.com/apptoken-go/apptoken/core"
)

func ExampleNew() {
	// What daprd is started with; in production the environment has it.
	os.Setenv("APP_API_TOKEN", "s3cr3t-token-shared-with-daprd")
	defer os.Unsetenv("APP_API_TOKEN")

	v, err := apptoken.New() // APP_API_TOKEN, or the file named by APP_API_TOKEN_FILE
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	fmt.Println(v.Verify("POST", "/orders", []string{"s3cr3t-token-shared-with-daprd"}))
	fmt.Println(v.Verify("POST", "/orders", []string{"guess"}))
	fmt.Println(v.Verify("GET", "/healthz", nil))

	os.Unsetenv("APP_API_TOKEN")
	_, err = apptoken.New()
	fmt.Println(err)
	// Output:
	// accepted
	// mismatch
	// exempt
	// apptoken: environment variable APP_API_TOKEN: no app API token configured: APP_API_TOKEN is not set
}

// Rotation: the app accepts the old and the new token while daprd is
// restarted with the new one. A file is read again every reload interval,
// so its lines can change without restarting the app.
func ExampleFile() {
	dir, err := os.MkdirTemp("", "apptoken-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tokens")
	if err := os.WriteFile(path, []byte("old-token-1234\nnew-token-5678\n"), 0o600); err != nil {
		log.Fatal(err)
	}

	v, err := apptoken.New(apptoken.WithSource(apptoken.File(path)))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close() // stops the goroutine that reloads the file
	for _, tok := range []string{"old-token-1234", "new-token-5678", "other"} {
		fmt.Println(tok, v.Verify("POST", "/orders", []string{tok}))
	}
	// Output:
	// old-token-1234 accepted
	// new-token-5678 accepted
	// other mismatch
}

// The decision hook sees every decision, for logs and metrics; never the
// token.
func ExampleWithDecisionHook() {
	v, err := apptoken.New(
		apptoken.WithTokens("s3cr3t"),
		apptoken.WithDecisionHook(func(d apptoken.Decision, method, path string) {
			if !d.Allowed() {
				fmt.Printf("rejected %s %s: %s\n", method, path, d)
			}
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	v.Verify("POST", "/orders", nil)
	v.Verify("POST", "/orders", []string{"s3cr3t"})
	v.VerifyGRPC("/orders.Orders/Create", []string{"wrong"})
	// Output:
	// rejected POST /orders: missing
	// rejected POST /orders.Orders/Create: mismatch
}

// Exemptions add to the default ones (GET and HEAD on /healthz).
func ExampleWithExemptions() {
	v, err := apptoken.New(
		apptoken.WithTokens("s3cr3t"),
		apptoken.WithExemptions(apptoken.Exemption{Method: "GET", Path: "/ready"}),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Verify("GET", "/ready", nil), v.Verify("GET", "/healthz", nil), v.Verify("GET", "/ready/", nil))
	// Output: exempt exempt missing
}

// A net/http middleware is Admit and WriteRejection.
func ExampleVerifier_Admit() {
	v, err := apptoken.New(apptoken.WithTokens("s3cr3t"))
	if err != nil {
		log.Fatal(err)
	}
	protect := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !v.Admit(r).Allowed() {
				apptoken.WriteRejection(w)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	h := protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "token header seen by the handler: %q", r.Header.Get(apptoken.HeaderName))
	}))
	for _, tok := range []string{"s3cr3t", "wrong"} {
		req := httptest.NewRequest(http.MethodPost, "/orders", nil)
		req.Header.Set(apptoken.HeaderName, tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body)
	}
	// Output:
	// 200 token header seen by the handler: ""
	// 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
}
