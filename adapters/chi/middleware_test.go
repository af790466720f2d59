package apptokenchi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	apptokenchi "github.com/apptoken-go/apptoken/adapters/chi"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/apptoken-go/apptoken/jwt/jwttest"
	"github.com/go-chi/chi/v5"
)

// router is the chi router the tests run: the middleware in front of every
// route of the conformance table.
func router(mw func(http.Handler) http.Handler) *chi.Mux {
	r := chi.NewRouter()
	r.Use(mw)
	for _, rt := range conformance.Routes {
		r.Method(rt.Method, rt.Path, conformance.Handler())
	}
	return r
}

// serveMux is the same with the standard library's router, wrapped whole.
func serveMux(mw func(http.Handler) http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range conformance.Routes {
		if rt.Method == http.MethodHead {
			continue // a GET pattern serves HEAD too
		}
		mux.Handle(rt.Method+" "+rt.Path, conformance.Handler())
	}
	return mw(mux)
}

// options gives the middleware the error handler r asks for.
func options(r conformance.Rejecter) []apptokenchi.Option {
	switch r {
	case conformance.CustomRejection:
		return []apptokenchi.Option{apptokenchi.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, d apptoken.Decision) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(conformance.CustomBody(d)))
		})}
	case conformance.SilentRejection:
		return []apptokenchi.Option{apptokenchi.WithErrorHandler(func(http.ResponseWriter, *http.Request, apptoken.Decision) {})}
	}
	return nil
}

func TestConformance(t *testing.T) {
	for name, build := range map[string]func(func(http.Handler) http.Handler) http.Handler{
		"chi":      func(mw func(http.Handler) http.Handler) http.Handler { return router(mw) },
		"ServeMux": serveMux,
	} {
		for _, m := range []conformance.Mode{conformance.Plain, jwttest.Mode(t)} {
			t.Run(name+"/"+m.Name, func(t *testing.T) {
				conformance.RunMode(t, m, func(t *testing.T, v *apptoken.Verifier, r conformance.Rejecter) string {
					srv := httptest.NewServer(build(apptokenchi.Middleware(v, options(r)...)))
					t.Cleanup(srv.Close)
					return srv.Listener.Addr().String()
				})
			})
		}
	}
}

func TestNilVerifierPanics(t *testing.T) {
	conformance.PanicsOnNil(t, func() { apptokenchi.Middleware(nil) })
}

// TestAcceptPathAllocs checks that the middleware adds no allocation to an
// accepted request over a pass-through middleware.
func TestAcceptPathAllocs(t *testing.T) {
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	with := chi.NewRouter()
	with.Use(apptokenchi.Middleware(conformance.NewVerifier(t, conformance.Token)))
	with.Post("/orders", ok)
	without := chi.NewRouter()
	without.Use(func(next http.Handler) http.Handler { return next })
	without.Post("/orders", ok)
	conformance.CheckAllocs(t, with, without)
}
