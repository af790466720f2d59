package apptokenchi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	apptokenchi "github.com/apptoken-go/apptoken/adapters/chi"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

var cmpBody = []byte("ok")

// cmpHandler is the route of every sub-benchmark: a 200 with a tiny body.
func cmpHandler(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(cmpBody)
}

// cmpSDK is the check written by hand today, as the Dapr Go SDK writes it:
// Header.Get with the name, compare with !=. Called with the name as Dapr
// documents it, "dapr-api-token" (the sdk case), Header.Get canonicalises
// it into a new string on every request, as in the SDK; called with the
// canonical name (sdk-lean), it does not: the cheapest way to write it.
func cmpSDK(token, name string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get(name) != token {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// cmpDeny writes the standard rejection the way the middleware does, and
// nothing else: what writing the 401 costs.
func cmpDeny(http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		apptoken.WriteRejection(w)
	})
}

type cmpWriter struct{ h http.Header }

func (w cmpWriter) Header() http.Header       { return w.h }
func (cmpWriter) Write(b []byte) (int, error) { return len(b), nil }
func (cmpWriter) WriteHeader(int)             {}

// BenchmarkMiddleware measures a request through a real chi
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
//   - keyauth: chi's BasicAuth, with the token as the password;
//   - deny: a middleware that only writes the standard 401.
//
// Every case sends the same headers and sets the token header before each
// request, since the middleware removes it from accepted requests.
func BenchmarkMiddleware(b *testing.B) {
	for _, s := range conformance.Shapes {
		v := conformance.NewVerifier(b, s.Token)
		keep := conformance.NewVerifier(b, s.Token, apptoken.WithKeepHeader())
		cases := []struct {
			name   string
			mw     func(http.Handler) http.Handler
			token  string
			status int
		}{
			{"bare", nil, s.Token, http.StatusOK},
			{"apptoken", apptokenchi.Middleware(v), s.Token, http.StatusOK},
			{"apptoken-keep", apptokenchi.Middleware(keep), s.Token, http.StatusOK},
			{"apptoken-reject", apptokenchi.Middleware(v), s.Wrong, http.StatusUnauthorized},
			{"sdk", cmpSDK(s.Token, apptoken.HeaderName), s.Token, http.StatusOK},
			{"sdk-lean", cmpSDK(s.Token, tokenKey), s.Token, http.StatusOK},
			{"keyauth", middleware.BasicAuth("dapr", map[string]string{"dapr": s.Token}), s.Token, http.StatusOK},
			{"deny", cmpDeny, s.Token, http.StatusUnauthorized},
		}
		for _, c := range cases {
			r := chi.NewRouter()
			if c.mw != nil {
				r.Use(c.mw)
			}
			r.Post("/orders", cmpHandler)
			req := httptest.NewRequest(http.MethodPost, "/orders", nil)
			req.SetBasicAuth("dapr", s.Token)
			values := []string{c.token}
			// Once through a recorder, to be sure of what is measured.
			req.Header[tokenKey] = values
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != c.status {
				b.Fatalf("%s/%s: status %d, want %d", s.Name, c.name, rec.Code, c.status)
			}
			w := cmpWriter{h: http.Header{}}
			// The request carries a routing context, reset before each
			// request, as a parent router hands it to a mounted one: chi
			// then routes it without taking a context from its pool and
			// copying the request (two allocations per request, whose
			// garbage collection made this the noisiest table).
			rctx := chi.NewRouteContext()
			req = req.WithContext(context.WithValue(req.Context(), chi.RouteCtxKey, rctx))
			b.Run(s.Name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					rctx.Reset()
					rctx.Routes = r
					req.Header[tokenKey] = values
					r.ServeHTTP(w, req)
				}
			})
		}
	}
}

// tokenKey is the token header's name as net/http keys it.
var tokenKey = http.CanonicalHeaderKey(apptoken.HeaderName)

// BenchmarkEndToEnd measures what a user sees: a real client over a
// loopback connection to a chi router, without and with the middleware.
func BenchmarkEndToEnd(b *testing.B) {
	conformance.RunEndToEnd(b, func(b *testing.B, protect bool) string {
		r := chi.NewRouter()
		if protect {
			r.Use(apptokenchi.Middleware(conformance.NewVerifier(b, conformance.Token)))
		}
		r.Post("/orders", cmpHandler)
		srv := httptest.NewServer(r)
		b.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	})
}
