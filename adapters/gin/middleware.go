package apptokengin

import (
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/gin-gonic/gin"
)

// Option configures [Middleware]. Options are made by the With… functions
// of this package; the interface is sealed.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	onReject func(c *gin.Context, d apptoken.Decision)
}

// WithErrorHandler answers rejected requests with h instead of the standard
// rejection. The request is already aborted when h is called, so no later
// handler runs; h is given the decision (for its outcome and reason; it
// never holds the token) and should write the response. It should answer
// 401: never 404, which daprd takes as "drop this message", nor 2xx, which
// daprd takes as success. If h writes nothing, the standard rejection is
// written, so a forgetful handler never turns a rejection into a 200. A nil
// h restores the standard rejection.
func WithErrorHandler(h func(c *gin.Context, d apptoken.Decision)) Option {
	return optionFunc(func(c *config) { c.onReject = h })
}

// Middleware returns gin middleware (for Engine.Use, a group's Use, or a
// single route) that lets a request through only when v allows it, and
// otherwise aborts it and answers with the standard rejection or the
// handler given by [WithErrorHandler].
func Middleware(v *apptoken.Verifier, opts ...Option) gin.HandlerFunc {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	onReject := cfg.onReject
	return func(c *gin.Context) {
		d := v.VerifyRequest(c.Request)
		if d.Allowed() {
			c.Next()
			return
		}
		c.Abort()
		if onReject != nil {
			onReject(c, d)
			if c.Writer.Written() {
				return
			}
		}
		apptoken.WriteRejection(c.Writer)
	}
}
