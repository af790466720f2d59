package apptokengin_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	apptokengin "github.com/apptoken-go/apptoken/adapters/gin"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/apptoken-go/apptoken/jwt/jwttest"
	"github.com/gin-gonic/gin"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// engine is the router the tests run: gin.New() set up as the package
// documentation recommends (no redirects before the middleware), with the
// middleware in front of every route of the conformance table.
func engine(mw gin.HandlerFunc) *gin.Engine {
	r := gin.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.Use(mw)
	for _, rt := range conformance.Routes {
		r.Handle(rt.Method, rt.Path, gin.WrapH(conformance.Handler()))
	}
	return r
}

func TestConformance(t *testing.T) { conformance.Run(t, startServer) }

func TestConformanceSigned(t *testing.T) { conformance.RunMode(t, jwttest.Mode(t), startServer) }

// startServer serves the conformance routes with the middleware on v in
// front, on a loopback listener.
func startServer(t *testing.T, v *apptoken.Verifier, r conformance.Rejecter) string {
	var opts []apptokengin.Option
	switch r {
	case conformance.CustomRejection:
		opts = append(opts, apptokengin.WithErrorHandler(func(c *gin.Context, d apptoken.Decision) {
			c.String(http.StatusUnauthorized, conformance.CustomBody(d))
		}))
	case conformance.SilentRejection:
		opts = append(opts, apptokengin.WithErrorHandler(func(*gin.Context, apptoken.Decision) {}))
	}
	srv := httptest.NewServer(engine(apptokengin.Middleware(v, opts...)))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestNilVerifierPanics(t *testing.T) {
	conformance.PanicsOnNil(t, func() { apptokengin.Middleware(nil) })
}

// TestDefaultEngineRedirects documents gin's own behaviour that the package
// documentation warns about: with gin.New()'s defaults, a trailing-slash
// variant of a route is redirected before any middleware runs. If a gin
// release changes this, this test fails and the documentation should be
// updated.
func TestDefaultEngineRedirects(t *testing.T) {
	var decided int
	v := conformance.NewVerifier(t, conformance.Token, apptoken.WithDecisionHook(func(apptoken.Decision, string, string) { decided++ }))
	r := gin.New()
	r.Use(apptokengin.Middleware(v))
	for _, rt := range conformance.Routes {
		r.Handle(rt.Method, rt.Path, gin.WrapH(conformance.Handler()))
	}
	rec := serve(r, http.MethodGet, "/healthz/", "")
	if rec.Code != http.StatusMovedPermanently || decided != 0 {
		t.Errorf("GET /healthz/ on gin.New(): %d after %d decisions; gin used to redirect (301) before the middleware", rec.Code, decided)
	}
	r.RedirectTrailingSlash = false
	if rec := serve(r, http.MethodGet, "/healthz/", ""); rec.Code != http.StatusUnauthorized || decided != 1 {
		t.Errorf("GET /healthz/ without redirects: %d after %d decisions, want 401 after 1", rec.Code, decided)
	}
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

// TestAcceptPathAllocs checks that the middleware adds no allocation to an
// accepted request, compared with the same engine with a pass-through
// middleware.
func TestAcceptPathAllocs(t *testing.T) {
	ok := func(c *gin.Context) { c.Status(http.StatusOK) }
	with := gin.New()
	with.Use(apptokengin.Middleware(conformance.NewVerifier(t, conformance.Token)))
	with.POST("/orders", ok)
	without := gin.New()
	without.Use(func(c *gin.Context) { c.Next() })
	without.POST("/orders", ok)
	conformance.CheckAllocs(t, with, without)
}
