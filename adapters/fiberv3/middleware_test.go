package apptokenfiberv3_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apptokenfiberv3 "github.com/apptoken-go/apptoken/adapters/fiberv3"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/apptoken-go/apptoken/jwt/jwttest"
	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
)

// readBufferSize is large enough for the conformance table's 64 KiB header
// values to reach the middleware; with fiber's default (4096), fasthttp
// answers 431 before fiber routes. The 1 MiB case still gets that 431.
const readBufferSize = 128 << 10

// seen is the handler of every route: 200 with conformance.SeenBody of the
// token values it sees, like conformance.Handler for net/http.
func seen(c fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/plain")
	return c.SendString(conformance.SeenBody(len(c.Request().Header.PeekAll(apptoken.HeaderName))))
}

// quietErrors is the ErrorHandler the package documentation recommends:
// fiber's status and its standard text, never the error's message, which
// for a request fasthttp cannot parse quotes the request.
func quietErrors(c fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = fe.Code
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(code).SendString(http.StatusText(code))
}

// newApp is the app the tests run: the middleware in front of every route
// of the conformance table, registered on "/*" as the package
// documentation says.
func newApp(mw fiber.Handler, config ...fiber.Config) *fiber.App {
	cfg := fiber.Config{ReadBufferSize: readBufferSize, ErrorHandler: quietErrors}
	if len(config) > 0 {
		cfg = config[0]
	}
	app := fiber.New(cfg)
	app.Use("/*", mw)
	for _, rt := range conformance.Routes {
		app.Add([]string{rt.Method}, rt.Path, seen)
	}
	return app
}

// listen serves app on a loopback port until the test ends.
func listen(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("listener: %v", err)
		}
	})
	return ln.Addr().String()
}

// answeredByFiber are the cases of the conformance table that fiber v3
// answers itself, with what it does, which TestFiberAnswersItself asserts.
// Of them, the table does not allow a framework the 5xx of unknownMethods:
// TestConformance skips those.
var answeredByFiber = map[string]string{
	// fasthttp cannot parse the request's head: fiber runs the Use
	// middleware on an empty request (the verifier decides "missing"),
	// then answers with the parse error through its ErrorHandler.
	"NUL after the token":         "400 after the middleware",
	"NUL inside the token":        "400 after the middleware",
	"control byte in the value":   "400 after the middleware",
	"bare CR in the value":        "400 after the middleware",
	"bare LF splitting the value": "400 after the middleware",
	"control byte after the path": "400 after the middleware",
	// The same for a head larger than ReadBufferSize.
	"1 MiB value": "431 after the middleware",
	// A method outside Config.RequestMethods, before any middleware.
	"unknown method":             "501",
	"lower-case get on /healthz": "501",
}

// TestConformance runs the table through the real app on a loopback
// listener, but for the cases fiber answers with a 5xx.
func TestConformance(t *testing.T) { runConformance(t, conformance.Plain) }

func TestConformanceSigned(t *testing.T) { runConformance(t, jwttest.Mode(t)) }

func runConformance(t *testing.T, m conformance.Mode) {
	skip := map[string]string{}
	for name, why := range answeredByFiber {
		if why == "501" {
			skip[t.Name()+"/"+strings.ReplaceAll(name, " ", "_")] = why
		}
	}
	conformance.RunMode(t, m, func(t *testing.T, v *apptoken.Verifier, r conformance.Rejecter) string {
		if why, ok := skip[t.Name()]; ok {
			t.Skipf("fiber v3 answers this itself (%s); TestFiberAnswersItself checks it", why)
		}
		var opts []apptokenfiberv3.Option
		switch r {
		case conformance.CustomRejection:
			opts = append(opts, apptokenfiberv3.WithErrorHandler(func(c fiber.Ctx, d apptoken.Decision) error {
				return c.Status(http.StatusUnauthorized).SendString(conformance.CustomBody(d))
			}))
		case conformance.SilentRejection:
			opts = append(opts, apptokenfiberv3.WithErrorHandler(func(fiber.Ctx, apptoken.Decision) error { return nil }))
		}
		return listen(t, newApp(apptokenfiberv3.Middleware(v, opts...)))
	})
}

func TestNilVerifierPanics(t *testing.T) {
	conformance.PanicsOnNil(t, func() { apptokenfiberv3.Middleware(nil) })
	conformance.PanicsOnNil(t, func() { apptokenfiberv3.ContinueHandler(nil) })
}

// recorder keeps the verifier's decisions and whether a route ran.
type recorder struct {
	mu        sync.Mutex
	decisions []apptoken.Decision
	routed    int
}

func (r *recorder) hook(d apptoken.Decision, _, _ string) {
	r.mu.Lock()
	r.decisions = append(r.decisions, d)
	r.mu.Unlock()
}

func (r *recorder) route(c fiber.Ctx) error {
	r.mu.Lock()
	r.routed++
	r.mu.Unlock()
	return seen(c)
}

func (r *recorder) take() ([]apptoken.Decision, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, n := r.decisions, r.routed
	r.decisions, r.routed = nil, 0
	return d, n
}

// TestFiberAnswersItself asserts what fiber v3 does with the cases of
// answeredByFiber, so that a fiber release that changes it makes this
// test fail: nothing reaches a route, the status is fiber's own, the
// verifier decided at most "missing" (fiber runs Use middleware on a
// request it could not parse, as an empty GET), and with the recommended
// ErrorHandler no token comes back. With fiber's default ErrorHandler, the
// answer to a head fasthttp cannot parse quotes the offending value.
func TestFiberAnswersItself(t *testing.T) {
	want := map[string]struct {
		status  int
		decided bool
	}{
		"400 after the middleware": {http.StatusBadRequest, true},
		"431 after the middleware": {http.StatusRequestHeaderFieldsTooLarge, true},
		"501":                      {http.StatusNotImplemented, false},
	}
	cases := map[string]conformance.Case{}
	for _, c := range conformance.Cases() {
		cases[c.Name] = c
	}
	for name, what := range answeredByFiber {
		c, ok := cases[name]
		if !ok {
			t.Errorf("%q is no longer a case of the conformance table: drop it from answeredByFiber", name)
			continue
		}
		w, ok := want[what]
		if !ok {
			t.Fatalf("%q: unknown expectation %q", name, what)
		}
		for _, quiet := range []bool{true, false} {
			rec := &recorder{}
			cfg := fiber.Config{ReadBufferSize: readBufferSize}
			if quiet {
				cfg.ErrorHandler = quietErrors
			}
			app := fiber.New(cfg)
			app.Use("/*", apptokenfiberv3.Middleware(conformance.NewVerifier(t, conformance.Token, apptoken.WithDecisionHook(rec.hook))))
			app.Use("/*", rec.route)
			addr := listen(t, app)
			resp, body, err := conformance.Send(addr, c.Method, c.Target, c.Headers)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			_ = resp.Body.Close() // already read and closed by Send: a no-op
			decisions, routed := rec.take()
			if resp.StatusCode != w.status || routed != 0 {
				t.Errorf("%s: %d, %d routes ran; want %d from fiber and no route", name, resp.StatusCode, routed, w.status)
			}
			if w.decided && !slices.Equal(decisions, []apptoken.Decision{apptoken.Missing}) || !w.decided && len(decisions) > 0 {
				t.Errorf("%s: the verifier decided %v", name, decisions)
			}
			sent := slices.ContainsFunc(c.Headers, func(h conformance.Header) bool { return strings.Contains(h.Value, conformance.Token[:10]) })
			echoed := strings.Contains(string(body), conformance.Token[:10])
			switch {
			case quiet && echoed:
				t.Errorf("%s: with the recommended ErrorHandler, the answer quotes the token: %q", name, body)
			case !quiet && sent && w.status == http.StatusBadRequest && !echoed:
				t.Logf("%s: fiber's default ErrorHandler no longer quotes the value (%q); the package documentation can drop its warning", name, body)
			}
		}
	}
}

// TestUseWithoutPath shows why the middleware goes on "/*": fiber v3 runs
// a Use registered without a path only for request targets that start
// with "/", while its wildcard routes match any target, so a request for
// "*" or "healthz" reaches a wildcard route unchecked. On "/*" the
// middleware runs for every target.
func TestUseWithoutPath(t *testing.T) {
	for _, c := range []struct {
		path   []any
		want   int
		reason string
	}{
		{nil, http.StatusOK, "fiber v3 used to let this target past a Use without a path; if it no longer does, the package documentation can say so"},
		{[]any{"/*"}, http.StatusUnauthorized, "the middleware on \"/*\" must check every target"},
	} {
		app := fiber.New()
		app.Use(append(c.path, apptokenfiberv3.Middleware(conformance.NewVerifier(t, conformance.Token)))...)
		app.Get("/*", seen)
		addr := listen(t, app)
		for _, target := range []string{"*", "healthz", "%2Fhealthz"} {
			resp, _, err := conformance.Send(addr, http.MethodGet, target, nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close() // already read and closed by Send: a no-op
			if resp.StatusCode != c.want {
				t.Errorf("Use(%v): GET %s without token: %d, want %d: %s", c.path, target, resp.StatusCode, c.want, c.reason)
			}
		}
	}
}

// TestContinueHandler checks that with ContinueHandler a request asking
// "Expect: 100-continue" without an accepted token is refused before its
// body is read, and that one with the token gets its 100 Continue.
func TestContinueHandler(t *testing.T) {
	for _, c := range []struct {
		name, method, target, token string
		want                        string
	}{
		{"no token", http.MethodPost, "/orders", "", "HTTP/1.1 417 Expectation Failed"},
		{"wrong token", http.MethodPost, "/orders", conformance.WrongToken, "HTTP/1.1 417 Expectation Failed"},
		{"right token", http.MethodPost, "/orders", conformance.Token, "HTTP/1.1 100 Continue"},
		{"exempt path, with a query", http.MethodGet, "/healthz?x=1", "", "HTTP/1.1 100 Continue"},
		{"not the exempt path", http.MethodGet, "/%68ealthz", "", "HTTP/1.1 417 Expectation Failed"},
	} {
		// A server of its own: after the test closes the connection
		// without a body, fiber may run the middleware once more on its
		// error path.
		rec := &recorder{}
		v := conformance.NewVerifier(t, conformance.Token, apptoken.WithDecisionHook(rec.hook))
		app := newApp(apptokenfiberv3.Middleware(v))
		app.Server().ContinueHandler = apptokenfiberv3.ContinueHandler(v)
		addr := listen(t, app)

		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		head := c.method + " " + c.target + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 8\r\n"
		if c.token != "" {
			head += "Dapr-Api-Token: " + c.token + "\r\n"
		}
		if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
			t.Fatal(err)
		}
		// The body is not sent: the first line must come without it.
		line, err := bufio.NewReader(conn).ReadString('\n')
		_ = conn.Close()
		if err != nil || strings.TrimSpace(line) != c.want {
			t.Errorf("%s: first line %q (%v), want %q", c.name, line, err, c.want)
		}
		// The ContinueHandler decided before the first line was written.
		if decisions, routed := rec.take(); len(decisions) == 0 || decisions[0].Allowed() != strings.HasSuffix(c.want, "Continue") || routed != 0 {
			t.Errorf("%s: decisions %v, %d routes ran", c.name, decisions, routed)
		}
	}
}

// call sends one request through app.Test (fiber's whole stack, in process).
func call(t *testing.T, app *fiber.App, method, path, token string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set(apptoken.HeaderName, token)
	}
	resp, err := app.Test(req, fiber.TestConfig{Timeout: 10 * time.Second, FailOnTimeout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusUnauthorized && string(body) == apptoken.RejectionBody {
		if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != apptoken.RejectionContentType || cc != "no-store" {
			t.Errorf("%s %s: rejected with Content-Type %q and Cache-Control %q", method, path, ct, cc)
		}
	}
	return resp.StatusCode, string(body)
}

// An error handler's error goes to fiber's ErrorHandler.
func TestErrorHandlerReturnsError(t *testing.T) {
	app := newApp(apptokenfiberv3.Middleware(conformance.NewVerifier(t, conformance.Token), apptokenfiberv3.WithErrorHandler(
		func(_ fiber.Ctx, d apptoken.Decision) error {
			return fiber.NewError(http.StatusUnauthorized, "from the error handler: "+d.String())
		})), fiber.Config{})
	if status, body := call(t, app, http.MethodPost, "/orders", ""); status != http.StatusUnauthorized || body != "from the error handler: missing" {
		t.Errorf("got %d %q", status, body)
	}
}

// The path is matched as sent: fiber routes "/HEALTHZ" and "/healthz/" to
// the /healthz route (it is case-insensitive and lenient about a trailing
// slash by default), and fasthttp normalises "//healthz", "/%68ealthz" and
// "/healthz/../orders" for routing, but none of them is the exempt path.
func TestExemptionUsesPathAsSent(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	v := conformance.NewVerifier(t, conformance.Token, apptoken.WithDecisionHook(func(_ apptoken.Decision, _, path string) {
		mu.Lock()
		paths = append(paths, strings.Clone(path))
		mu.Unlock()
	}))
	addr := listen(t, newApp(apptokenfiberv3.Middleware(v)))
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		p := paths
		paths = nil
		return p
	}
	for _, target := range []string{"/HEALTHZ", "/healthz/", "//healthz", "/%68ealthz", "/healthz/../orders", "/./healthz", "/healthz%3Fx"} {
		resp, _, err := conformance.Send(addr, http.MethodGet, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // already read and closed by Send: a no-op
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s: %d, want 401", target, resp.StatusCode)
		}
		if got := take(); len(got) != 1 || got[0] != target {
			t.Errorf("GET %s: the verifier saw paths %q, want the target as sent", target, got)
		}
	}
	resp, _, err := conformance.Send(addr, http.MethodGet, "/healthz?x=/../y#z", nil)
	if err != nil {
		t.Fatalf("GET /healthz with a query: %v", err)
	}
	_ = resp.Body.Close() // already read and closed by Send: a no-op
	if got := take(); resp.StatusCode != http.StatusOK || len(got) != 1 || got[0] != "/healthz" {
		t.Errorf("GET /healthz with a query: %d, verifier saw %q; want 200 and the path without the query", resp.StatusCode, got)
	}
}

// With DisableHeaderNormalizing, only the spelling daprd sends is seen.
func TestDisableHeaderNormalizing(t *testing.T) {
	app := newApp(apptokenfiberv3.Middleware(conformance.NewVerifier(t, conformance.Token)), fiber.Config{DisableHeaderNormalizing: true})
	for _, c := range []struct {
		name string
		want int
	}{
		{"Dapr-Api-Token", http.StatusOK},
		{"dapr-api-token", http.StatusUnauthorized},
	} {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.DisableSpecialHeader()
		ctx.Request.Header.DisableNormalizing()
		ctx.Request.Header.SetMethod(http.MethodPost)
		ctx.Request.SetRequestURI("/orders")
		ctx.Request.Header.Set(c.name, conformance.Token)
		app.Handler()(&ctx)
		if got := ctx.Response.StatusCode(); got != c.want {
			t.Errorf("token sent as %q: %d, want %d", c.name, got, c.want)
		}
	}
}

// TestAcceptPathAllocs checks, through app.Handler() with a reused
// fasthttp.RequestCtx, that the middleware adds no allocation to an
// accepted request compared with a pass-through middleware.
func TestAcceptPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	v := conformance.NewVerifier(t, conformance.Token)
	build := func(mw fiber.Handler) fasthttp.RequestHandler {
		app := fiber.New()
		app.Use("/*", mw)
		app.Post("/orders", func(c fiber.Ctx) error { return c.SendStatus(http.StatusOK) })
		return app.Handler()
	}
	var ctx fasthttp.RequestCtx
	run := func(h fasthttp.RequestHandler) float64 {
		return testing.AllocsPerRun(200, func() {
			ctx.Request.Header.SetMethod(http.MethodPost)
			ctx.Request.SetRequestURI("/orders")
			ctx.Request.Header.Set(apptoken.HeaderName, conformance.Token)
			ctx.Response.Reset()
			h(&ctx)
		})
	}
	base := run(build(func(c fiber.Ctx) error { return c.Next() }))
	got := run(build(apptokenfiberv3.Middleware(v)))
	t.Logf("allocs per accepted request: %v with the middleware, %v with a pass-through middleware", got, base)
	if got > base {
		t.Errorf("the middleware adds %v allocations per accepted request", got-base)
	}
	if ctx.Response.StatusCode() != http.StatusOK || ctx.Request.Header.Peek(apptoken.HeaderName) != nil {
		t.Errorf("status %d, token header %q; want 200 and no header", ctx.Response.StatusCode(), ctx.Request.Header.Peek(apptoken.HeaderName))
	}
}
