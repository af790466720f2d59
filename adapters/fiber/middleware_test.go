package apptokenfiber_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	apptokenfiber "github.com/apptoken-go/apptoken/adapters/fiber"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/apptoken-go/apptoken/jwt/jwttest"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/valyala/fasthttp"
)

// readBufferSize is large enough for the conformance table's 64 KiB header
// values to reach the middleware; with fiber's default (4096), fasthttp
// answers 431 before fiber runs. The 1 MiB case still gets that 431.
const readBufferSize = 128 << 10

// seen is the handler of every route: 200 with conformance.SeenBody of the
// token values it sees, like conformance.Handler for net/http.
func seen(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/plain")
	return c.SendString(conformance.SeenBody(len(c.Request().Header.PeekAll(apptoken.HeaderName))))
}

// newApp is the app the tests run: the middleware in front of every route
// of the conformance table.
// quietErrors is the ErrorHandler the package documentation recommends:
// the status and its standard text, never the error's message, which for
// a request fasthttp cannot parse quotes the request, token included.
func quietErrors(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = fe.Code
	}
	return c.Status(code).SendString(utils.StatusMessage(code))
}

func newApp(mw fiber.Handler, config ...fiber.Config) *fiber.App {
	cfg := fiber.Config{DisableStartupMessage: true, ReadBufferSize: readBufferSize, ErrorHandler: quietErrors}
	if len(config) > 0 {
		cfg = config[0]
	}
	app := fiber.New(cfg)
	app.Use(mw)
	for _, rt := range conformance.Routes {
		app.Add(rt.Method, rt.Path, seen)
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
	go func() { done <- app.Listener(ln) }()
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

// TestConformance runs the table. fiber answers 400 "Invalid http method"
// to a method outside Config.RequestMethods before routing, which the
// table accepts as a framework refusal for the "unknown method" case;
// TestFiberRefusesUnknownMethods asserts it exactly, so a fiber release
// that changes this makes that test fail.
func TestConformance(t *testing.T) { conformance.Run(t, startServer) }

func TestConformanceSigned(t *testing.T) { conformance.RunMode(t, jwttest.Mode(t), startServer) }

// startServer serves the conformance routes with the middleware on v in
// front, on a loopback listener.
func startServer(t *testing.T, v *apptoken.Verifier, r conformance.Rejecter) string {
	var opts []apptokenfiber.Option
	switch r {
	case conformance.CustomRejection:
		opts = append(opts, apptokenfiber.WithErrorHandler(func(c *fiber.Ctx, d apptoken.Decision) error {
			return c.Status(http.StatusUnauthorized).SendString(conformance.CustomBody(d))
		}))
	case conformance.SilentRejection:
		opts = append(opts, apptokenfiber.WithErrorHandler(func(*fiber.Ctx, apptoken.Decision) error { return nil }))
	}
	return listen(t, newApp(apptokenfiber.Middleware(v, opts...)))
}

func TestNilVerifierPanics(t *testing.T) {
	conformance.PanicsOnNil(t, func() { apptokenfiber.Middleware(nil) })
	conformance.PanicsOnNil(t, func() { apptokenfiber.ContinueHandler(nil) })
}

// TestContinueHandler checks that with ContinueHandler a request asking
// "Expect: 100-continue" without an accepted token is refused before its
// body is read, and that one with the token gets its 100 Continue.
func TestContinueHandler(t *testing.T) {
	var decisions []apptoken.Decision
	v := conformance.NewVerifier(t, conformance.Token, apptoken.WithDecisionHook(func(d apptoken.Decision, _, _ string) {
		decisions = append(decisions, d)
	}))
	app := newApp(apptokenfiber.Middleware(v))
	app.Server().ContinueHandler = apptokenfiber.ContinueHandler(v)
	addr := listen(t, app)
	for _, c := range []struct {
		name, token string
		want        string
	}{
		{"no token", "", "HTTP/1.1 417 Expectation Failed"},
		{"wrong token", conformance.WrongToken, "HTTP/1.1 417 Expectation Failed"},
		{"right token", conformance.Token, "HTTP/1.1 100 Continue"},
	} {
		decisions = nil
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		head := "POST /orders HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 8\r\n"
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
		if len(decisions) != 1 || decisions[0].Allowed() != (c.token == conformance.Token) {
			t.Errorf("%s: decisions %v", c.name, decisions)
		}
	}
}

func TestFiberRefusesUnknownMethods(t *testing.T) {
	var decided int
	v := conformance.NewVerifier(t, conformance.Token, apptoken.WithDecisionHook(func(apptoken.Decision, string, string) { decided++ }))
	addr := listen(t, newApp(apptokenfiber.Middleware(v)))
	for _, method := range []string{"BREW", "get"} {
		resp, body, err := conformance.Send(addr, method, "/orders", []conformance.Header{{Name: "Dapr-Api-Token", Value: conformance.Token}})
		if err != nil {
			t.Fatal(err)
		}
		// Send has read the whole body and closed it; closing it again is a no-op.
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || string(body) != "Invalid http method" || decided != 0 {
			t.Errorf("%s /orders: %d %q after %d decisions; fiber used to answer 400 \"Invalid http method\" before any middleware",
				method, resp.StatusCode, body, decided)
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
	resp, err := app.Test(req, -1)
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
	app := newApp(apptokenfiber.Middleware(conformance.NewVerifier(t, conformance.Token), apptokenfiber.WithErrorHandler(
		func(c *fiber.Ctx, d apptoken.Decision) error {
			return fiber.NewError(http.StatusUnauthorized, "from the error handler: "+d.String())
		})), fiber.Config{DisableStartupMessage: true}) // fiber's default ErrorHandler, which answers the message
	if status, body := call(t, app, http.MethodPost, "/orders", ""); status != http.StatusUnauthorized || body != "from the error handler: missing" {
		t.Errorf("got %d %q", status, body)
	}
}

// The path is matched as sent: fiber routes "/HEALTHZ" and "/healthz/" to
// the /healthz route (it is case-insensitive and lenient about a trailing
// slash by default), and fasthttp normalises "//healthz", "/%68ealthz" and
// "/healthz/../orders" for routing, but none of them is the exempt path.
func TestExemptionUsesPathAsSent(t *testing.T) {
	var paths []string
	v := conformance.NewVerifier(t, conformance.Token, apptoken.WithDecisionHook(func(_ apptoken.Decision, _, path string) {
		paths = append(paths, strings.Clone(path))
	}))
	addr := listen(t, newApp(apptokenfiber.Middleware(v)))
	for _, target := range []string{"/HEALTHZ", "/healthz/", "//healthz", "/%68ealthz", "/healthz/../orders", "/./healthz", "/healthz%3Fx"} {
		paths = paths[:0]
		resp, _, err := conformance.Send(addr, http.MethodGet, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // already read and closed by Send: a no-op
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s: %d, want 401", target, resp.StatusCode)
		}
		if len(paths) != 1 || paths[0] != target {
			t.Errorf("GET %s: the verifier saw paths %q, want the target as sent", target, paths)
		}
	}
	paths = paths[:0]
	resp, _, err := conformance.Send(addr, http.MethodGet, "/healthz?x=/../y#z", nil)
	if err != nil {
		t.Fatalf("GET /healthz with a query: %v", err)
	}
	_ = resp.Body.Close() // already read and closed by Send: a no-op
	if resp.StatusCode != http.StatusOK || len(paths) != 1 || paths[0] != "/healthz" {
		t.Errorf("GET /healthz with a query: %d, verifier saw %q; want 200 and the path without the query", resp.StatusCode, paths)
	}
}

// With DisableHeaderNormalizing, only the spelling daprd sends is seen.
func TestDisableHeaderNormalizing(t *testing.T) {
	app := newApp(apptokenfiber.Middleware(conformance.NewVerifier(t, conformance.Token)), fiber.Config{DisableStartupMessage: true, DisableHeaderNormalizing: true})
	for _, c := range []struct {
		name string
		want int
	}{
		{"Dapr-Api-Token", http.StatusOK},
		{"dapr-api-token", http.StatusUnauthorized},
	} {
		var ctx fasthttp.RequestCtx
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
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Use(mw)
		app.Post("/orders", func(c *fiber.Ctx) error { return c.SendStatus(http.StatusOK) })
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
	base := run(build(func(c *fiber.Ctx) error { return c.Next() }))
	got := run(build(apptokenfiber.Middleware(v)))
	t.Logf("allocs per accepted request: %v with the middleware, %v with a pass-through middleware", got, base)
	if got > base {
		t.Errorf("the middleware adds %v allocations per accepted request", got-base)
	}
	if ctx.Response.StatusCode() != http.StatusOK || ctx.Request.Header.Peek(apptoken.HeaderName) != nil {
		t.Errorf("status %d, token header %q; want 200 and no header", ctx.Response.StatusCode(), ctx.Request.Header.Peek(apptoken.HeaderName))
	}
}
