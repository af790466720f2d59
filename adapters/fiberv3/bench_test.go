package apptokenfiberv3_test

import (
	"crypto/subtle"
	"net"
	"net/http"
	"testing"

	apptokenfiberv3 "github.com/apptoken-go/apptoken/adapters/fiberv3"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/extractors"
	"github.com/gofiber/fiber/v3/middleware/keyauth"
	"github.com/valyala/fasthttp"
)

var (
	cmpBody      = []byte("ok")
	cmpRejection = []byte(apptoken.RejectionBody)
)

// cmpHandler is the route of every sub-benchmark: a 200 with a tiny body.
func cmpHandler(c fiber.Ctx) error {
	return c.Status(http.StatusOK).Send(cmpBody)
}

// cmpSDK is the check written by hand today, as the Dapr Go SDK writes it
// for net/http: read the header by the name Dapr documents, compare with
// !=. fiber normalises the name on every lookup whatever its spelling, so
// there is no cheaper way to write it (no sdk-lean case here).
func cmpSDK(token string) fiber.Handler {
	return func(c fiber.Ctx) error {
		if c.Get(apptoken.HeaderName) != token {
			return c.SendStatus(http.StatusUnauthorized)
		}
		return c.Next()
	}
}

// cmpKeyAuth is fiber's own keyauth middleware reading the token header,
// with a validator that compares in constant time.
func cmpKeyAuth(token string) fiber.Handler {
	want := []byte(token)
	return keyauth.New(keyauth.Config{
		Extractor: extractors.FromHeader(apptoken.HeaderName),
		Validator: func(_ fiber.Ctx, key string) (bool, error) {
			return subtle.ConstantTimeCompare([]byte(key), want) == 1, nil
		},
	})
}

// cmpDeny writes the standard rejection the way the middleware does, and
// nothing else: what writing the 401 costs.
func cmpDeny(c fiber.Ctx) error {
	c.Status(apptoken.RejectionStatus)
	c.Set(fiber.HeaderContentType, apptoken.RejectionContentType)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Response().SetBody(cmpRejection)
	return nil
}

// BenchmarkMiddleware measures a request through a real fiber v3
// app by its in-memory path, app.Handler() with a reused
// fasthttp.RequestCtx, for each token shape:
//
//   - bare: the route alone;
//   - apptoken: this middleware, valid token (it removes the header);
//   - apptoken-keep: the same with apptoken.WithKeepHeader, which leaves the
//     header on the request as the hand-written check does;
//   - apptoken-reject: this middleware, wrong token of the same length;
//   - sdk: the hand-written check, c.Get("dapr-api-token") != token;
//   - keyauth: fiber's keyauth on the token header;
//   - deny: a middleware that only writes the standard 401.
//
// Every middleware is registered with app.Use("/*", ...), as the package
// documentation says. Every case sets the token header and resets the
// response before each request, since the middleware removes the header
// from accepted requests.
func BenchmarkMiddleware(b *testing.B) {
	for _, s := range conformance.Shapes {
		v := conformance.NewVerifier(b, s.Token)
		keep := conformance.NewVerifier(b, s.Token, apptoken.WithKeepHeader())
		cases := []struct {
			name   string
			mw     fiber.Handler
			token  string
			status int
		}{
			{"bare", nil, s.Token, http.StatusOK},
			{"apptoken", apptokenfiberv3.Middleware(v), s.Token, http.StatusOK},
			{"apptoken-keep", apptokenfiberv3.Middleware(keep), s.Token, http.StatusOK},
			{"apptoken-reject", apptokenfiberv3.Middleware(v), s.Wrong, http.StatusUnauthorized},
			{"sdk", cmpSDK(s.Token), s.Token, http.StatusOK},
			{"keyauth", cmpKeyAuth(s.Token), s.Token, http.StatusOK},
			{"deny", cmpDeny, s.Token, http.StatusUnauthorized},
		}
		for _, c := range cases {
			app := fiber.New()
			if c.mw != nil {
				app.Use("/*", c.mw)
			}
			app.Post("/orders", cmpHandler)
			h := app.Handler()
			ctx := new(fasthttp.RequestCtx)
			ctx.Request.Header.SetMethod(http.MethodPost)
			ctx.Request.SetRequestURI("/orders")
			token := c.token
			// Once, to be sure of what is measured.
			ctx.Request.Header.Set(apptoken.HeaderName, token)
			h(ctx)
			if got := ctx.Response.StatusCode(); got != c.status {
				b.Fatalf("%s/%s: status %d, want %d", s.Name, c.name, got, c.status)
			}
			b.Run(s.Name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					ctx.Request.Header.Set(apptoken.HeaderName, token)
					ctx.Response.Reset()
					h(ctx)
				}
			})
		}
	}
}

// BenchmarkEndToEnd measures what a user sees: a real client over a
// loopback connection to a fiber v3 app, without and with the middleware.
func BenchmarkEndToEnd(b *testing.B) {
	conformance.RunEndToEnd(b, func(b *testing.B, protect bool) string {
		app := fiber.New()
		if protect {
			app.Use("/*", apptokenfiberv3.Middleware(conformance.NewVerifier(b, conformance.Token)))
		}
		app.Post("/orders", cmpHandler)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
		b.Cleanup(func() { _ = app.Shutdown() })
		return ln.Addr().String()
	})
}
