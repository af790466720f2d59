// Package apptoken verifies the app API token that a Dapr sidecar (daprd)
// sends to its application on every call it makes: the HTTP header
// dapr-api-token or the gRPC metadata key dapr-api-token.
//
// A [Verifier] holds the accepted tokens, taken from one or more [Source]s
// (an environment variable, fixed tokens, a file that is reloaded when it
// changes), and gives a [Decision] for each request: exempt, accepted, or
// why it was rejected. It fails closed: a token that is unset, empty or
// malformed is an error from [New], never a verifier that lets everything
// through. Presented values are compared in constant time, and the time
// taken depends neither on how much of a value matches nor on the
// configured tokens' length. The verifier never logs, returns or echoes a
// token.
//
// This package holds every decision and imports only the standard library.
// The adapters (net/http, gin, echo, fiber, gRPC) live in their own modules
// and only translate: they read the header the framework's way, ask the
// verifier, and write its answer the framework's way. A net/http
// middleware is a few lines:
//
//	v, err := apptoken.New() // APP_API_TOKEN, or the file named by APP_API_TOKEN_FILE
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	protect := func(next http.Handler) http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			if !v.Admit(r).Allowed() {
//				apptoken.WriteRejection(w)
//				return
//			}
//			next.ServeHTTP(w, r)
//		})
//	}
//
// # What net/http answers before any middleware
//
// A net/http server answers the request "OPTIONS * HTTP/1.1" itself, with
// 200, before any handler or middleware runs, unless
// http.Server.DisableGeneralOptionsHandler is set. Nothing is let through,
// but the answer is not the 401 every other unchecked request gets. Set it
// on the server of every framework built on net/http (gin, echo, chi):
//
//	srv := &http.Server{Handler: h, DisableGeneralOptionsHandler: true}
package apptoken
