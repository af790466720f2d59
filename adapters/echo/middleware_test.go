package apptokenecho_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	apptokenecho "github.com/apptoken-go/apptoken/adapters/echo"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/apptoken-go/apptoken/jwt/jwttest"
	"github.com/labstack/echo/v4"
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
	var opts []apptokenecho.Option
	switch r {
	case conformance.CustomRejection:
		opts = append(opts, apptokenecho.WithErrorHandler(func(c echo.Context, d apptoken.Decision) error {
			return c.String(http.StatusUnauthorized, conformance.CustomBody(d))
		}))
	case conformance.SilentRejection:
		opts = append(opts, apptokenecho.WithErrorHandler(func(echo.Context, apptoken.Decision) error { return nil }))
	}
	srv := httptest.NewServer(router(apptokenecho.Middleware(v, opts...)))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestNilVerifierPanics(t *testing.T) {
	conformance.PanicsOnNil(t, func() { apptokenecho.Middleware(nil) })
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
	e := router(apptokenecho.Middleware(conformance.NewVerifier(t, conformance.Token), apptokenecho.WithErrorHandler(
		func(c echo.Context, d apptoken.Decision) error {
			return echo.NewHTTPError(http.StatusUnauthorized, "from the error handler: "+d.String())
		})))
	var seen error
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		seen = err
		e.DefaultHTTPErrorHandler(err, c)
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

// TestAcceptPathAllocs checks that the middleware adds no allocation to an
// accepted request over a pass-through middleware (echo v4 allocates the
// closure of every Use middleware on every request, either way).
func TestAcceptPathAllocs(t *testing.T) {
	ok := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	with := echo.New()
	with.Use(apptokenecho.Middleware(conformance.NewVerifier(t, conformance.Token)))
	with.POST("/orders", ok)
	without := echo.New()
	without.Use(func(next echo.HandlerFunc) echo.HandlerFunc { return func(c echo.Context) error { return next(c) } })
	without.POST("/orders", ok)
	conformance.CheckAllocs(t, with, without)
}
