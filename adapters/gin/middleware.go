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
// handler runs; h is given the decision (never the token) and should write
// the response, keeping to the rule of [apptoken.RejectionStatus] (never
// 2xx, never 404). If h writes nothing, the standard rejection is written,
// so a forgetful handler never turns a rejection into a 200. A nil h
// restores the standard rejection.
func WithErrorHandler(h func(c *gin.Context, d apptoken.Decision)) Option {
	return optionFunc(func(c *config) { c.onReject = h })
}

// Middleware returns gin middleware (for Engine.Use, a group's Use, or a
// single route) that lets a request through only when v admits it (see
// [apptoken.Verifier.Admit]), and otherwise aborts it and answers with the
// standard rejection or the handler given by [WithErrorHandler]. It panics
// if v is nil.
func Middleware(v *apptoken.Verifier, opts ...Option) gin.HandlerFunc {
	if v == nil {
		panic("apptokengin: Middleware: nil *apptoken.Verifier; make one with apptoken.New")
	}
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	onReject := cfg.onReject
	return func(c *gin.Context) {
		d := v.Admit(c.Request)
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
