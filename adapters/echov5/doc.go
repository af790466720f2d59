// Package apptokenechov5 checks the app API token that a Dapr sidecar
// (daprd) sends to its application, as echo v5 middleware.
//
// It is the echo v5 twin of the apptokenecho package (echo v4), and only
// translates: the decision is taken by the core package's
// [apptoken.Verifier.Admit] on echo's *http.Request, which also reads the
// header, matches exemptions against the path exactly as the client sent
// it, and removes the token header from an accepted request (unless
// [apptoken.WithKeepHeader] was given) before the handler runs.
//
//	import (
//		apptoken "github.com/apptoken-go/apptoken/core"
//		apptokenechov5 "github.com/apptoken-go/apptoken/adapters/echov5"
//		"github.com/labstack/echo/v5"
//	)
//
//	v, err := apptoken.New() // APP_API_TOKEN, or the file named by APP_API_TOKEN_FILE
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	e := echo.New()
//	e.Use(apptokenechov5.Middleware(v))
//	e.POST("/orders", createOrder)
//
// Echo runs the middleware given to Echo.Use around whatever the router
// found, its 404, 405 and OPTIONS handlers included, so a request for a
// path or method with no route is checked too: without a valid token it
// gets 401. A rejected request is answered like [apptoken.WriteRejection]
// (401, a JSON body in Dapr's error shape, the same for a missing and a
// wrong token) and the middleware returns nil, so echo's HTTPErrorHandler
// is not involved. [WithErrorHandler] replaces the answer.
//
// # What differs from echo v4
//
//   - Handlers take a *echo.Context (a struct, no longer an interface), and
//     so does the handler given to [WithErrorHandler].
//   - echo v5 builds the chain of Use middleware once, when Use is called,
//     instead of wrapping the routed handler anew on every request: the
//     middleware costs no allocation on an accepted request.
//   - Context.Response returns an http.ResponseWriter. Whether an error
//     handler answered is found out as echo's DefaultHTTPErrorHandler finds
//     it out, through echo.UnwrapResponse: a writer put in place by other
//     middleware that does not unwrap to *echo.Response counts as not
//     committed, and the standard rejection is written after the handler.
//
// Middleware panics if given a nil verifier. Like every net/http server,
// echo's answers "OPTIONS *" itself unless
// http.Server.DisableGeneralOptionsHandler is set; see the core package's
// documentation.
package apptokenechov5
