// Package apptokenchi checks the app API token that a Dapr sidecar (daprd)
// sends to its application, as net/http middleware:
// func(http.Handler) http.Handler, for chi, http.ServeMux, gorilla/mux and
// anything else built on net/http.
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
// With http.ServeMux, or any handler, wrap the whole router so that
// unrouted requests are checked too:
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("POST /orders", createOrder)
//	srv := &http.Server{
//		Handler:                      apptokenchi.Middleware(v)(mux),
//		DisableGeneralOptionsHandler: true, // see the core package's documentation
//	}
//
// Middleware panics if given a nil verifier.
package apptokenchi
