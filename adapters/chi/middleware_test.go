package apptokenchi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	apptokenchi "github.com/apptoken-go/apptoken/adapters/chi"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/go-chi/chi/v5"
)

// router is the router the tests run: the middleware in front of every
// route of the conformance table.
func router(mw func(http.Handler) http.Handler) *chi.Mux {
	r := chi.NewRouter()
	r.Use(mw)
	for _, rt := range conformance.Routes {
		r.Method(rt.Method, rt.Path, conformance.Handler())
	}
	return r
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, v *apptoken.Verifier) string {
		srv := httptest.NewServer(router(apptokenchi.Middleware(v)))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	})
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
	h := router(apptokenchi.Middleware(conformance.NewVerifier(t, conformance.Token), apptokenchi.WithErrorHandler(
		func(w http.ResponseWriter, r *http.Request, d apptoken.Decision) {
			got = append(got, d)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("custom " + d.String()))
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

// An error handler that writes nothing must not turn a rejection into
// net/http's default 200.
func TestErrorHandlerWritingNothing(t *testing.T) {
	for _, h := range []func(http.ResponseWriter, *http.Request, apptoken.Decision){
		nil,
		func(http.ResponseWriter, *http.Request, apptoken.Decision) {},
	} {
		r := router(apptokenchi.Middleware(conformance.NewVerifier(t, conformance.Token), apptokenchi.WithErrorHandler(h), nil))
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
	h := router(apptokenchi.Middleware(nil))
	for _, path := range []string{"/orders", "/healthz", "/no/route"} {
		rec := serve(h, http.MethodGet, path, conformance.Token)
		if rec.Code != http.StatusUnauthorized || rec.Body.String() != apptoken.RejectionBody {
			t.Errorf("GET %s: got %d %q, want 401 and the standard rejection", path, rec.Code, rec.Body)
		}
	}
}

// TestAcceptPathAllocs checks that the middleware adds no allocation to an
// accepted request, compared with the same router without it.
func TestAcceptPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	v := conformance.NewVerifier(t, conformance.Token)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	with := chi.NewRouter()
	with.Use(apptokenchi.Middleware(v))
	with.Post("/orders", ok)
	without := chi.NewRouter()
	without.Use(func(next http.Handler) http.Handler { return next })
	without.Post("/orders", ok)

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
