// Package apptokenecho checks the app API token that a Dapr sidecar (daprd)
// sends to its application, as echo middleware.
//
// It only translates: the decision is taken by the core package's
// [apptoken.Verifier], which also reads the header, matches exemptions
// against the path exactly as the client sent it, and removes the token
// header from an accepted request (unless [apptoken.WithKeepHeader] was
// given) before the handler runs.
//
//	import (
//		apptoken "github.com/apptoken-go/apptoken/core"
//		apptokenecho "github.com/apptoken-go/apptoken/adapters/echo"
//		"github.com/labstack/echo/v4"
//	)
//
//	v, err := apptoken.New() // APP_API_TOKEN, or the file named by APP_API_TOKEN_FILE
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	e := echo.New()
//	e.Use(apptokenecho.Middleware(v))
//	e.POST("/orders", createOrder)
//
// Echo runs the middleware given to Echo.Use around whatever the router
// found, its 404 and 405 handlers included, so a request for a path or
// method with no route is checked too: without a valid token it gets 401.
// A rejected request is answered like [apptoken.WriteRejection] (401, a
// JSON body in Dapr's error shape, the same for a missing and a wrong
// token) and the middleware returns nil, so echo's HTTPErrorHandler is not
// involved. [WithErrorHandler] replaces the answer.
//
// echo v4 applies Use middleware to the routed handler anew on every
// request, which costs one allocation per middleware per request, this one
// as any other (echo's own KeyAuth included).
//
// Middleware panics if given a nil verifier. Like every net/http server,
// echo's answers "OPTIONS *" itself unless
// http.Server.DisableGeneralOptionsHandler is set; see the core package's
// documentation.
package apptokenecho
