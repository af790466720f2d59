package apptokenechov5_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	apptokenechov5 "github.com/apptoken-go/apptoken/adapters/echov5"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/apptoken-go/apptoken/jwt/jwttest"
	"github.com/labstack/echo/v5"
)

// router is the router the tests run: the middleware in front of every
// route of the conformance table.
func router(mw echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	e.Use(mw)
	for _, rt := range conformance.Routes {
		e.Add(rt.Method, rt.Path, echo.WrapHandler(conformance.Handler()))
	}
	return e
}

func TestConformance(t *testing.T) { conformance.Run(t, startServer) }

func TestConformanceSigned(t *testing.T) { conformance.RunMode(t, jwttest.Mode(t), startServer) }

// startServer serves the conformance routes with the middleware on v in
// front, on a loopback listener.
func startServer(t *testing.T, v *apptoken.Verifier, r conformance.Rejecter) string {
	var opts []apptokenechov5.Option
	switch r {
	case conformance.CustomRejection:
		opts = append(opts, apptokenechov5.WithErrorHandler(func(c *echo.Context, d apptoken.Decision) error {
			return c.String(http.StatusUnauthorized, conformance.CustomBody(d))
		}))
	case conformance.SilentRejection:
		opts = append(opts, apptokenechov5.WithErrorHandler(func(*echo.Context, apptoken.Decision) error { return nil }))
	}
	srv := httptest.NewServer(router(apptokenechov5.Middleware(v, opts...)))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestNilVerifierPanics(t *testing.T) {
	conformance.PanicsOnNil(t, func() { apptokenechov5.Middleware(nil) })
}

func serve(h http.Handler, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set(apptoken.HeaderName, token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// An error handler's error goes to echo's HTTPErrorHandler.
func TestErrorHandlerReturnsError(t *testing.T) {
	e := router(apptokenechov5.Middleware(conformance.NewVerifier(t, conformance.Token), apptokenechov5.WithErrorHandler(
		func(_ *echo.Context, d apptoken.Decision) error {
			return echo.NewHTTPError(http.StatusUnauthorized, "from the error handler: "+d.String())
		})))
	var seen error
	defaultHandler := echo.DefaultHTTPErrorHandler(false)
	e.HTTPErrorHandler = func(c *echo.Context, err error) {
		seen = err
		defaultHandler(c, err)
	}
	rec := serve(e, http.MethodPost, "/orders", "")
	var he *echo.HTTPError
	if !errors.As(seen, &he) || he.Code != http.StatusUnauthorized {
		t.Fatalf("HTTPErrorHandler saw %v, want the handler's 401 error", seen)
	}
	if rec.Code != http.StatusUnauthorized || rec.Body.String() != `{"message":"from the error handler: missing"}`+"\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body)
	}
}

// An error handler that writes through a writer some other middleware put
// in place, which does not unwrap to echo's Response, cannot be seen to
// have answered: the standard rejection follows, as echo's own
// DefaultHTTPErrorHandler would write its answer.
func TestErrorHandlerBehindOpaqueWriter(t *testing.T) {
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			c.SetResponse(opaqueWriter{c.Response()})
			return next(c)
		}
	})
	e.Use(apptokenechov5.Middleware(conformance.NewVerifier(t, conformance.Token),
		apptokenechov5.WithErrorHandler(func(*echo.Context, apptoken.Decision) error { return nil })))
	e.POST("/orders", func(c *echo.Context) error { return c.NoContent(http.StatusOK) })
	rec := serve(e, http.MethodPost, "/orders", "")
	if rec.Code != http.StatusUnauthorized || rec.Body.String() != apptoken.RejectionBody {
		t.Errorf("got %d %q, want the standard rejection", rec.Code, rec.Body)
	}
}

type opaqueWriter struct{ http.ResponseWriter }

// TestAcceptPathAllocs checks that the middleware adds no allocation to an
// accepted request over a pass-through middleware.
func TestAcceptPathAllocs(t *testing.T) {
	ok := func(c *echo.Context) error { return c.NoContent(http.StatusOK) }
	with := echo.New()
	with.Use(apptokenechov5.Middleware(conformance.NewVerifier(t, conformance.Token)))
	with.POST("/orders", ok)
	without := echo.New()
	without.Use(func(next echo.HandlerFunc) echo.HandlerFunc { return func(c *echo.Context) error { return next(c) } })
	without.POST("/orders", ok)
	conformance.CheckAllocs(t, with, without)
}
