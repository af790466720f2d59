// Package apptoken verifies the app API token that a Dapr sidecar (daprd) sends
// to its application on every call it makes: the HTTP header dapr-api-token or
// the gRPC metadata key dapr-api-token.
//
// A [Verifier] holds the accepted tokens, taken from one or more [Source]s
// (an environment variable, a static list, a file that is reloaded when it
// changes), and decides for each request whether it is exempt, accepted,
// missing or invalid. It fails closed: a token that is unset, empty or
// malformed is an error from [New], never a verifier that lets everything
// through. Presented values are compared in constant time, and the time taken
// depends neither on how much of a value matches nor on the configured
// tokens' length. The verifier never logs, returns or echoes a token.
//
// This package holds every decision and imports only the standard library.
// Framework adapters (gin, echo, fiber, chi, gRPC) live in their own modules
// and only translate: they read the header the framework's cheapest way, ask
// the verifier, and write its answer the framework's way.
//
// A net/http application needs no adapter:
//
//	v, err := apptoken.New() // reads APP_API_TOKEN
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		if d := v.VerifyRequest(r); !d.Allowed() {
//			apptoken.WriteRejection(w)
//			return
//		}
//		// ... serve the request
//	})
package apptoken
