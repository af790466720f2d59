// Package apptokenchi checks the app API token that a Dapr sidecar (daprd)
// sends to its application, as chi middleware.
//
// It only translates: the decision is taken by the core package's
// [apptoken.Verifier], which also reads the header, matches exemptions
// against the path exactly as the client sent it, and removes the token
// header from an accepted request (unless [apptoken.WithKeepHeader] was
// given) before the handler runs.
//
//	import (
//		apptoken "github.com/apptoken-go/apptoken/core"
//		apptokenchi "github.com/apptoken-go/apptoken/adapters/chi"
//		"github.com/go-chi/chi/v5"
//	)
//
//	v, err := apptoken.New() // APP_API_TOKEN, or the file named by APP_API_TOKEN_FILE
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	r := chi.NewRouter()
//	r.Use(apptokenchi.Middleware(v)) // before any route
//	r.Post("/orders", createOrder)
//
// Middleware given to chi's Mux.Use runs before routing, so a request for a
// path or method with no route is checked too: without a valid token it is
// answered 401, never chi's 404 or 405. A rejection is
// [apptoken.WriteRejection]'s: 401, a JSON body in Dapr's error shape, the
// same for a missing and a wrong token. [WithErrorHandler] replaces it.
//
// A nil *apptoken.Verifier rejects every request.
package apptokenchi
