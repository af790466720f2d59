package apptokenfiberv3_test

import (
	"bufio"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	apptokenfiberv3 "github.com/apptoken-go/apptoken/adapters/fiberv3"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
)

// FuzzMiddleware sends requests with fuzzed methods, targets and token
// values, parsed by fasthttp as its server parses them, through the real
// app (app.Handler() on a fasthttp.RequestCtx), and checks the result
// against an oracle written from the rules: 200 exactly when a value
// equals the token (at most MaxValues values, none longer than
// MaxTokenLength) or the request is GET or HEAD on exactly /healthz; 401
// with the standard body otherwise. Every target has a handler, so an
// allowed request always reaches one. The only answer allowed without a
// decision is fiber's 501 for a method it does not know. Targets that do
// not start with "/" ("*", "healthz") are sent too: fiber v3 routes them.
func FuzzMiddleware(f *testing.F) {
	var decisions atomic.Int64
	v := conformance.NewVerifier(f, conformance.Token, apptoken.WithDecisionHook(func(apptoken.Decision, string, string) { decisions.Add(1) }))
	app := newApp(apptokenfiberv3.Middleware(v))
	app.Use("/*", seen) // every other target and method
	handler := app.Handler()

	f.Fuzz(func(t *testing.T, method, target, value, second string) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: example.test\r\nDapr-Api-Token: " + value + "\r\n"
		if second != "" {
			raw += "Dapr-Api-Token: " + second + "\r\n"
		}
		var req fasthttp.Request
		if err := req.Read(bufio.NewReaderSize(strings.NewReader(raw+"\r\n"), readBufferSize)); err != nil {
			return // refused by fasthttp before any handler
		}
		requestURI := string(req.Header.RequestURI())
		if strings.Contains(requestURI, "://") {
			return // absolute-form: fasthttp takes the path out of it
		}
		m := string(req.Header.Method())
		var values []string
		for _, v := range req.Header.PeekAll(apptoken.HeaderName) {
			values = append(values, string(v))
		}
		want := conformance.Allowed(m, pathOf(requestURI), values)

		var ctx fasthttp.RequestCtx
		ctx.Init(&req, nil, nil)
		decisions.Store(0)
		handler(&ctx)
		status, body := ctx.Response.StatusCode(), string(ctx.Response.Body())

		if !slices.Contains(fiber.DefaultMethods, m) {
			if status != http.StatusNotImplemented || decisions.Load() != 0 {
				t.Fatalf("%q %q: %d %q after %d decisions, want fiber's own 501 before the middleware", m, requestURI, status, body, decisions.Load())
			}
			return
		}
		if n := decisions.Load(); n != 1 {
			t.Errorf("the verifier decided %d times, want once", n)
		}
		switch {
		case want && status != http.StatusOK:
			t.Fatalf("%q %q: status %d, want 200; body %q", m, requestURI, status, body)
		case want && m != http.MethodHead && body != conformance.SeenBody(0):
			t.Fatalf("%q %q: handler answered %q, want %q", m, requestURI, body, conformance.SeenBody(0))
		case !want && (status != http.StatusUnauthorized || (m != http.MethodHead && body != apptoken.RejectionBody)):
			t.Fatalf("%q %q: status %d %q, want 401 and the standard rejection", m, requestURI, status, body)
		}
	})
}

// pathOf is the path of a request target as fasthttp sees it: without the
// query, and without a fragment, which fasthttp drops. fasthttp refuses to
// parse a target holding a control byte anywhere and leaves the path
// empty, which is never exempt: such a request must be checked.
func pathOf(requestURI string) string {
	if strings.ContainsFunc(requestURI, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return ""
	}
	path, _, _ := strings.Cut(requestURI, "?")
	path, _, _ = strings.Cut(path, "#")
	return path
}
