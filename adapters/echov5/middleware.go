package apptokenechov5

import (
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/labstack/echo/v5"
)

// Option configures [Middleware]. Options are made by the With… functions
// of this package; the interface is sealed.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	onReject func(c *echo.Context, d apptoken.Decision) error
}

// WithErrorHandler answers rejected requests with h instead of the standard
// rejection. h is given the decision (never the token) and should write the
// response, or return an error for echo's HTTPErrorHandler to answer (for
// example echo.ErrUnauthorized); the middleware returns what h returns and
// never calls the next handler. Keep to the rule of
// [apptoken.RejectionStatus]: never 2xx, never 404. If h returns nil
// without committing a response, the standard rejection is written, so a
// forgetful handler never turns a rejection into a 200. A nil h restores
// the standard rejection.
func WithErrorHandler(h func(c *echo.Context, d apptoken.Decision) error) Option {
	return optionFunc(func(c *config) { c.onReject = h })
}

// Middleware returns echo v5 middleware (for Echo.Use, a group's Use, or a
// single route) that calls the next handler only when v admits the request
// (see [apptoken.Verifier.Admit]), and otherwise answers with the standard
// rejection or the handler given by [WithErrorHandler]. It panics if v is
// nil.
func Middleware(v *apptoken.Verifier, opts ...Option) echo.MiddlewareFunc {
	if v == nil {
		panic("apptokenechov5: Middleware: nil *apptoken.Verifier; make one with apptoken.New")
	}
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	onReject := cfg.onReject
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			d := v.Admit(c.Request())
			if d.Allowed() {
				return next(c)
			}
			if onReject != nil {
				if err := onReject(c, d); err != nil || committed(c) {
					return err
				}
			}
			apptoken.WriteRejection(c.Response())
			return nil
		}
	}
}

// committed reports whether the response has been sent, as echo's own
// DefaultHTTPErrorHandler finds out: through the *echo.Response that the
// context's writer unwraps to. A writer that does not unwrap to one counts
// as not committed, as it does for echo.
func committed(c *echo.Context) bool {
	r, err := echo.UnwrapResponse(c.Response())
	return err == nil && r.Committed
}
