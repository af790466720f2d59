package apptokenechov5_test

import (
	"crypto/subtle"
	"net/http"
	"net/http/httptest"
	"testing"

	apptokenechov5 "github.com/apptoken-go/apptoken/adapters/echov5"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

var cmpBody = []byte("ok")

// cmpHandler is the route of every sub-benchmark: a 200 with a tiny body.
func cmpHandler(c *echo.Context) error {
	c.Response().WriteHeader(http.StatusOK)
	_, err := c.Response().Write(cmpBody)
	return err
}

// cmpSDK is the check written by hand today, as the Dapr Go SDK writes it:
// Header.Get with the name, compare with !=. Called with the name as Dapr
// documents it, "dapr-api-token" (the sdk case), Header.Get canonicalises
// it into a new string on every request, as in the SDK; called with the
// canonical name (sdk-lean), it does not: the cheapest way to write it.
func cmpSDK(token, name string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if c.Request().Header.Get(name) != token {
				return c.NoContent(http.StatusUnauthorized)
			}
			return next(c)
		}
	}
}

// cmpKeyAuth is echo's own key-auth middleware reading the token header,
// with a validator that compares in constant time.
func cmpKeyAuth(token string) echo.MiddlewareFunc {
	want := []byte(token)
	return middleware.KeyAuthWithConfig(middleware.KeyAuthConfig{
		KeyLookup: "header:" + apptoken.HeaderName,
		Validator: func(_ *echo.Context, key string, _ middleware.ExtractorSource) (bool, error) {
			return subtle.ConstantTimeCompare([]byte(key), want) == 1, nil
		},
	})
}

// cmpDeny writes the standard rejection the way the middleware does, and
// nothing else: what writing the 401 costs.
func cmpDeny(echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		apptoken.WriteRejection(c.Response())
		return nil
	}
}

type cmpWriter struct{ h http.Header }

func (w cmpWriter) Header() http.Header       { return w.h }
func (cmpWriter) Write(b []byte) (int, error) { return len(b), nil }
func (cmpWriter) WriteHeader(int)             {}

// BenchmarkMiddleware measures a request through a real echo v5
// router, with a reused request and a no-op response writer, for each
// token shape:
//
//   - bare: the route alone;
//   - apptoken: this middleware, valid token (it removes the header);
//   - apptoken-keep: the same with apptoken.WithKeepHeader, which leaves the
//     header on the request as the hand-written check does;
//   - apptoken-reject: this middleware, wrong token of the same length;
//   - sdk: the hand-written check as the Dapr Go SDK writes it,
//     Header.Get("dapr-api-token") != token;
//   - sdk-lean: the same by the canonical name, which does not allocate;
//   - keyauth: echo's KeyAuth on the token header;
//   - deny: a middleware that only writes the standard 401.
//
// Every case sets the token header before each request, since the
// middleware removes it from accepted requests. echo v5 builds the chain
// of Use middleware once, when Use is called, not per request.
func BenchmarkMiddleware(b *testing.B) {
	for _, s := range conformance.Shapes {
		v := conformance.NewVerifier(b, s.Token)
		keep := conformance.NewVerifier(b, s.Token, apptoken.WithKeepHeader())
		cases := []struct {
			name   string
			mw     echo.MiddlewareFunc
			token  string
			status int
		}{
			{"bare", nil, s.Token, http.StatusOK},
			{"apptoken", apptokenechov5.Middleware(v), s.Token, http.StatusOK},
			{"apptoken-keep", apptokenechov5.Middleware(keep), s.Token, http.StatusOK},
			{"apptoken-reject", apptokenechov5.Middleware(v), s.Wrong, http.StatusUnauthorized},
			{"sdk", cmpSDK(s.Token, apptoken.HeaderName), s.Token, http.StatusOK},
			{"sdk-lean", cmpSDK(s.Token, tokenKey), s.Token, http.StatusOK},
			{"keyauth", cmpKeyAuth(s.Token), s.Token, http.StatusOK},
			{"deny", cmpDeny, s.Token, http.StatusUnauthorized},
		}
		for _, c := range cases {
			e := echo.New()
			if c.mw != nil {
				e.Use(c.mw)
			}
			e.POST("/orders", cmpHandler)
			req := httptest.NewRequest(http.MethodPost, "/orders", nil)
			values := []string{c.token}
			// Once through a recorder, to be sure of what is measured.
			req.Header[tokenKey] = values
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != c.status {
				b.Fatalf("%s/%s: status %d, want %d", s.Name, c.name, rec.Code, c.status)
			}
			w := cmpWriter{h: http.Header{}}
			b.Run(s.Name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					req.Header[tokenKey] = values
					e.ServeHTTP(w, req)
				}
			})
		}
	}
}

// tokenKey is the token header's name as net/http keys it.
var tokenKey = http.CanonicalHeaderKey(apptoken.HeaderName)

// BenchmarkEndToEnd measures what a user sees: a real client over a
// loopback connection to an echo v5 server, without and with the
// middleware.
func BenchmarkEndToEnd(b *testing.B) {
	conformance.RunEndToEnd(b, func(b *testing.B, protect bool) string {
		e := echo.New()
		if protect {
			e.Use(apptokenechov5.Middleware(conformance.NewVerifier(b, conformance.Token)))
		}
		e.POST("/orders", cmpHandler)
		srv := httptest.NewServer(e)
		b.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	})
}
