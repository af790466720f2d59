package apptokengin_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	apptokengin "github.com/apptoken-go/apptoken/adapters/gin"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/gin-gonic/gin"
)

var cmpBody = []byte("ok")

// cmpHandler is the route of every sub-benchmark: a 200 with a tiny body.
func cmpHandler(c *gin.Context) {
	c.Writer.WriteHeader(http.StatusOK)
	_, _ = c.Writer.Write(cmpBody)
}

// cmpSDK is the check written by hand today, as the Dapr Go SDK writes it:
// Header.Get with the name, compare with !=. Called with the name as Dapr
// documents it, "dapr-api-token" (the sdk case), Header.Get canonicalises
// it into a new string on every request, as in the SDK; called with the
// canonical name (sdk-lean), it does not: the cheapest way to write it.
func cmpSDK(token, name string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Header.Get(name) != token {
			c.AbortWithStatus(http.StatusUnauthorized)
		}
	}
}

// cmpDeny writes the standard rejection the way the middleware does, and
// nothing else: what writing the 401 costs.
func cmpDeny(c *gin.Context) {
	c.Abort()
	apptoken.WriteRejection(c.Writer)
}

type cmpWriter struct{ h http.Header }

func (w cmpWriter) Header() http.Header       { return w.h }
func (cmpWriter) Write(b []byte) (int, error) { return len(b), nil }
func (cmpWriter) WriteHeader(int)             {}

// BenchmarkMiddleware measures a request through a real gin
// engine, with a reused request and a no-op response writer, for each
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
//   - keyauth: gin.BasicAuth, with the token as the password;
//   - deny: a middleware that only writes the standard 401.
//
// Every case sends the same headers and sets the token header before each
// request, since the middleware removes it from accepted requests.
func BenchmarkMiddleware(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	for _, s := range conformance.Shapes {
		v := conformance.NewVerifier(b, s.Token)
		keep := conformance.NewVerifier(b, s.Token, apptoken.WithKeepHeader())
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("dapr:"+s.Token))
		cases := []struct {
			name   string
			mw     gin.HandlerFunc
			token  string
			status int
		}{
			{"bare", nil, s.Token, http.StatusOK},
			{"apptoken", apptokengin.Middleware(v), s.Token, http.StatusOK},
			{"apptoken-keep", apptokengin.Middleware(keep), s.Token, http.StatusOK},
			{"apptoken-reject", apptokengin.Middleware(v), s.Wrong, http.StatusUnauthorized},
			{"sdk", cmpSDK(s.Token, apptoken.HeaderName), s.Token, http.StatusOK},
			{"sdk-lean", cmpSDK(s.Token, tokenKey), s.Token, http.StatusOK},
			{"keyauth", gin.BasicAuth(gin.Accounts{"dapr": s.Token}), s.Token, http.StatusOK},
			{"deny", cmpDeny, s.Token, http.StatusUnauthorized},
		}
		for _, c := range cases {
			r := gin.New()
			if c.mw != nil {
				r.Use(c.mw)
			}
			r.POST("/orders", cmpHandler)
			req := httptest.NewRequest(http.MethodPost, "/orders", nil)
			req.Header.Set("Authorization", basic)
			values := []string{c.token}
			// Once through a recorder, to be sure of what is measured.
			req.Header[tokenKey] = values
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != c.status {
				b.Fatalf("%s/%s: status %d, want %d", s.Name, c.name, rec.Code, c.status)
			}
			w := cmpWriter{h: http.Header{}}
			b.Run(s.Name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
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
// loopback connection to a gin engine, without and with the middleware.
func BenchmarkEndToEnd(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	conformance.RunEndToEnd(b, func(b *testing.B, protect bool) string {
		r := gin.New()
		if protect {
			r.Use(apptokengin.Middleware(conformance.NewVerifier(b, conformance.Token)))
		}
		r.POST("/orders", cmpHandler)
		srv := httptest.NewServer(r)
		b.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	})
}
