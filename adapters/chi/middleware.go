package apptokenchi

import (
	"net/http"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// Option configures [Middleware]. Options are made by the With… functions
// of this package; the interface is sealed.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	onReject func(w http.ResponseWriter, r *http.Request, d apptoken.Decision)
}

// WithErrorHandler answers rejected requests with h instead of the standard
// rejection. h is given the decision (never the token) and should write the
// response, keeping to the rule of [apptoken.RejectionStatus]: never 2xx,
// never 404. If h writes nothing, the standard rejection is written, so a
// forgetful handler never turns a rejection into net/http's default 200. A
// nil h restores the standard rejection.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, d apptoken.Decision)) Option {
	return optionFunc(func(c *config) { c.onReject = h })
}

// Middleware returns net/http middleware (for chi's Mux.Use or With, or to
// wrap any http.Handler) that lets a request through only when v admits it
// (see [apptoken.Verifier.Admit]), and otherwise answers with the standard
// rejection or the handler given by [WithErrorHandler]. It panics if v is
// nil.
func Middleware(v *apptoken.Verifier, opts ...Option) func(http.Handler) http.Handler {
	if v == nil {
		panic("apptokenchi: Middleware: nil *apptoken.Verifier; make one with apptoken.New")
	}
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	onReject := c.onReject
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d := v.Admit(r)
			if d.Allowed() {
				next.ServeHTTP(w, r)
				return
			}
			if onReject != nil {
				rw := &rejectionWriter{ResponseWriter: w}
				onReject(rw, r, d)
				if rw.wrote {
					return
				}
			}
			apptoken.WriteRejection(w)
		})
	}
}

// rejectionWriter records whether an error handler wrote a response.
type rejectionWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *rejectionWriter) WriteHeader(code int) {
	w.wrote = w.wrote || code >= 200
	w.ResponseWriter.WriteHeader(code)
}

func (w *rejectionWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *rejectionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
