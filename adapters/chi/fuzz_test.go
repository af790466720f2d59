package apptokenchi_test

import (
	"sync/atomic"
	"testing"

	apptokenchi "github.com/apptoken-go/apptoken/adapters/chi"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
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
	r := router(apptokenchi.Middleware(v))
	r.NotFound(conformance.Handler().ServeHTTP)
	r.MethodNotAllowed(conformance.Handler().ServeHTTP)

	f.Fuzz(func(t *testing.T, method, target, value, second string) {
		conformance.CheckNetHTTP(t, r, &decisions, method, target, value, second)
	})
}
