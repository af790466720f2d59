package apptoken_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
)

// middleware is the whole of what a net/http application needs.
func middleware(v *apptoken.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !v.VerifyRequest(r).Allowed() {
			apptoken.WriteRejection(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestConformanceNetHTTP(t *testing.T) {
	conformance.Run(t, func(t *testing.T, v *apptoken.Verifier) string {
		mux := http.NewServeMux()
		for _, r := range conformance.Routes {
			if r.Method == http.MethodHead {
				continue // a GET pattern serves HEAD too
			}
			mux.Handle(r.Method+" "+r.Path, conformance.Handler())
		}
		srv := httptest.NewServer(middleware(v, mux))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	})
}
