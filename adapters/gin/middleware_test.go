package apptokengin_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	apptokengin "github.com/apptoken-go/apptoken/adapters/gin"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
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

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, v *apptoken.Verifier) string {
		srv := httptest.NewServer(engine(apptokengin.Middleware(v)))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	})
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

func TestErrorHandler(t *testing.T) {
	var got []apptoken.Decision
	h := engine(apptokengin.Middleware(conformance.NewVerifier(t, conformance.Token), apptokengin.WithErrorHandler(
		func(c *gin.Context, d apptoken.Decision) {
			got = append(got, d)
			c.String(http.StatusUnauthorized, "custom %s", d)
		})))

	for _, c := range []struct {
		path, token string
		want        apptoken.Decision
	}{
		{"/orders", "", apptoken.Decision{Outcome: apptoken.OutcomeMissing, Reason: apptoken.ReasonNoValue}},
		{"/orders", conformance.WrongToken, apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonMismatch}},
		{"/no/route", conformance.WrongToken, apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonMismatch}},
	} {
		got = nil
		rec := serve(h, http.MethodPost, c.path, c.token)
		if rec.Code != http.StatusUnauthorized || rec.Body.String() != "custom "+c.want.String() {
			t.Errorf("%s, token %q: got %d %q, want 401 %q", c.path, c.token, rec.Code, rec.Body, "custom "+c.want.String())
		}
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%s, token %q: handler called with %v, want [%v]", c.path, c.token, got, c.want)
		}
	}

	got = nil
	if rec := serve(h, http.MethodPost, "/orders", conformance.Token); rec.Code != http.StatusOK || len(got) != 0 {
		t.Errorf("valid token: got %d, handler called %d times; want 200 and no call", rec.Code, len(got))
	}
}

// An error handler that writes nothing must not turn a rejection into the
// framework's default 200 (or 404 for an unrouted path).
func TestErrorHandlerWritingNothing(t *testing.T) {
	for _, h := range []func(*gin.Context, apptoken.Decision){
		nil,
		func(*gin.Context, apptoken.Decision) {},
	} {
		r := engine(apptokengin.Middleware(conformance.NewVerifier(t, conformance.Token), apptokengin.WithErrorHandler(h), nil))
		for _, path := range []string{"/orders", "/no/route"} {
			rec := serve(r, http.MethodPost, path, "")
			if rec.Code != apptoken.RejectionStatus || rec.Body.String() != apptoken.RejectionBody {
				t.Errorf("POST %s: got %d %q, want the standard rejection", path, rec.Code, rec.Body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("POST %s: Cache-Control %q, want no-store", path, cc)
			}
		}
	}
}

func TestNilVerifierRejects(t *testing.T) {
	h := engine(apptokengin.Middleware(nil))
	for _, path := range []string{"/orders", "/healthz", "/no/route"} {
		rec := serve(h, http.MethodGet, path, conformance.Token)
		if rec.Code != http.StatusUnauthorized || rec.Body.String() != apptoken.RejectionBody {
			t.Errorf("GET %s: got %d %q, want 401 and the standard rejection", path, rec.Code, rec.Body)
		}
	}
}

// TestAcceptPathAllocs checks that the middleware adds no allocation to an
// accepted request, compared with the same engine without it.
func TestAcceptPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	v := conformance.NewVerifier(t, conformance.Token)
	ok := func(c *gin.Context) { c.Status(http.StatusOK) }
	with := gin.New()
	with.Use(apptokengin.Middleware(v))
	with.POST("/orders", ok)
	without := gin.New()
	without.Use(func(c *gin.Context) { c.Next() })
	without.POST("/orders", ok)

	req := httptest.NewRequest(http.MethodPost, "/orders", nil)
	w := discardWriter{h: http.Header{}}
	run := func(h http.Handler) float64 {
		return testing.AllocsPerRun(200, func() {
			req.Header[apptoken.CanonicalHeaderName] = tokenValue
			h.ServeHTTP(w, req)
		})
	}
	base, got := run(without), run(with)
	t.Logf("allocs per accepted request: %v with the middleware, %v without", got, base)
	if got > base {
		t.Errorf("the middleware adds %v allocations per accepted request", got-base)
	}
	if req.Header[apptoken.CanonicalHeaderName] != nil {
		t.Errorf("the token header is still on the request")
	}
}

var tokenValue = []string{conformance.Token}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header       { return d.h }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
