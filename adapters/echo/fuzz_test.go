package apptokenecho_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	apptokenecho "github.com/apptoken-go/apptoken/adapters/echo"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/labstack/echo/v4"
)

// FuzzMiddleware sends requests with fuzzed methods, targets and token
// values, parsed the way the net/http server parses them, through the real
// router, and checks the result against an oracle written from the rules:
// 200 exactly when a value equals the token (at most MaxValues values, none
// longer than MaxTokenLength) or the request is GET or HEAD on exactly
// /healthz; 401 with the standard body otherwise. Every path and method
// has a handler, so an allowed request always reaches one.
func FuzzMiddleware(f *testing.F) {
	var decisions atomic.Int64
	v := conformance.NewVerifier(f, conformance.Token, apptoken.WithDecisionHook(func(apptoken.Decision, string, string) { decisions.Add(1) }))
	r := router(apptokenecho.Middleware(v))
	// Give every path and method a handler: echo's own 404 and 405 come
	// as errors from the router's handlers, after the middleware.
	catchAll := echo.WrapHandler(conformance.Handler())
	r.RouteNotFound("/*", catchAll)
	r.HTTPErrorHandler = func(err error, c echo.Context) {
		var he *echo.HTTPError
		if errors.As(err, &he) && (he.Code == http.StatusNotFound || he.Code == http.StatusMethodNotAllowed) {
			_ = catchAll(c)
			return
		}
		r.DefaultHTTPErrorHandler(err, c)
	}

	f.Fuzz(func(t *testing.T, method, target, value, second string) {
		conformance.CheckNetHTTP(t, r, &decisions, method, target, value, second)
	})
}
