// Package apptokengin checks the app API token that a Dapr sidecar (daprd)
// sends to its application, as gin middleware.
//
// It only translates: the decision is taken by the core package's
// [apptoken.Verifier], which also reads the header, matches exemptions
// against the path exactly as the client sent it, and removes the token
// header from an accepted request (unless [apptoken.WithKeepHeader] was
// given) before the handler runs.
//
//	import (
//		apptoken "github.com/apptoken-go/apptoken/core"
//		apptokengin "github.com/apptoken-go/apptoken/adapters/gin"
//		"github.com/gin-gonic/gin"
//	)
//
//	v, err := apptoken.New() // APP_API_TOKEN, or the file named by APP_API_TOKEN_FILE
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	r := gin.New()
//	r.RedirectTrailingSlash = false // see below
//	r.Use(apptokengin.Middleware(v))
//	r.POST("/orders", createOrder)
//
// A rejected request is aborted and answered like [apptoken.WriteRejection]:
// 401, a JSON body in Dapr's error shape, the same for a missing and a wrong
// token. [WithErrorHandler] replaces it.
//
// # What gin answers before any middleware
//
// Middleware given to Engine.Use also runs for requests without a route:
// gin's 404 (and, with HandleMethodNotAllowed, 405) handlers are preceded by
// the global middleware, so such a request without a valid token gets 401.
// Gin's redirects, however, are answered before any middleware runs: with
// RedirectTrailingSlash (on by default in gin.New and gin.Default) a request
// for "/orders/" when "/orders" has a route gets a 301 or 307 with no token
// check, and likewise with RedirectFixedPath (off by default). No handler
// runs and nothing is let through, but the answer is not the 401 every
// other unchecked request gets, and it tells an unauthenticated caller
// which routes exist. Keep both off, as above, to have every request
// checked first.
//
// Like every net/http server, gin's answers "OPTIONS *" itself unless
// http.Server.DisableGeneralOptionsHandler is set; see the core package's
// documentation. Middleware panics if given a nil verifier.
package apptokengin
