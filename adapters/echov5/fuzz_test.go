package apptokenechov5_test

import (
	"sync/atomic"
	"testing"

	apptokenechov5 "github.com/apptoken-go/apptoken/adapters/echov5"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/labstack/echo/v5"
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
	// Give every path and method a handler: echo's own 404, 405 and
	// OPTIONS answers come from the router's handlers, after the middleware.
	catchAll := echo.WrapHandler(conformance.Handler())
	e := echo.NewWithConfig(echo.Config{Router: echo.NewRouter(echo.RouterConfig{
		NotFoundHandler:         catchAll,
		MethodNotAllowedHandler: catchAll,
		OptionsMethodHandler:    catchAll,
	})})
	e.Use(apptokenechov5.Middleware(v))
	for _, rt := range conformance.Routes {
		e.Add(rt.Method, rt.Path, catchAll)
	}

	f.Fuzz(func(t *testing.T, method, target, value, second string) {
		conformance.CheckNetHTTP(t, e, &decisions, method, target, value, second)
	})
}
