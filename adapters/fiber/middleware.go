package apptokenfiber

import (
	"sync/atomic"
	"unsafe"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/gofiber/fiber/v2"
)

// Option configures [Middleware]. Options are made by the With… functions
// of this package; the interface is sealed.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	onReject func(c *fiber.Ctx, d apptoken.Decision) error
}

// WithErrorHandler answers rejected requests with h instead of the standard
// rejection. h is given the decision (for its outcome and reason; it never
// holds the token) and should write the response, or return an error for
// fiber's ErrorHandler to answer (for example fiber.ErrUnauthorized); the
// middleware returns what h returns and never calls the next handler. It
// should answer 401: never 404, which daprd takes as "drop this message",
// nor 2xx, which daprd takes as success. If h returns nil and leaves the
// response as it found it (status 200, no body), the standard rejection is
// written, so a forgetful handler never turns a rejection into a 200. A nil
// h restores the standard rejection.
func WithErrorHandler(h func(c *fiber.Ctx, d apptoken.Decision) error) Option {
	return optionFunc(func(c *config) { c.onReject = h })
}

var rejectionBody = []byte(apptoken.RejectionBody)

// Middleware returns fiber middleware (for App.Use, a group's Use, or a
// single route) that calls the next handler only when v allows the
// request, and otherwise answers with the standard rejection or the
// handler given by [WithErrorHandler].
func Middleware(v *apptoken.Verifier, opts ...Option) fiber.Handler {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	onReject := cfg.onReject
	keep := v.KeepHeader()
	var norm normCache
	return func(c *fiber.Ctx) error {
		req := c.Request()
		hdr := &req.Header
		// The path as sent, without the query: neither decoded nor cleaned.
		// A read-only view of fasthttp's buffer, which nothing changes while
		// VerifyBytes runs; neither VerifyBytes nor its decision hook (by the
		// hook's contract) keeps it past the call, so it needs no copy.
		raw := req.URI().PathOriginal()
		path := unsafe.String(unsafe.SliceData(raw), len(raw)) //nolint:gosec // G103: a view not kept past VerifyBytes, see above
		// The canonical spelling is the one daprd sends over HTTP/1.1; it is
		// also found when fiber is set not to normalise header names.
		// fasthttp normalises the name given to PeekAll and Del on every
		// call. Where it stores names normalised, the canonical name is
		// already in that form, so normalising is switched off around the
		// two calls and on again, which saves about 35 ns a request
		// (BenchmarkHeaderReadRemove). Either way the same headers are
		// found.
		quick := norm.normalizes(c.App())
		if quick {
			hdr.DisableNormalizing()
		}
		values := hdr.PeekAll(apptoken.CanonicalHeaderName)
		if quick {
			hdr.EnableNormalizing()
		}
		d := v.VerifyBytes(c.Method(), path, values)
		if d.Allowed() {
			if !keep {
				if quick {
					hdr.DisableNormalizing()
				}
				hdr.Del(apptoken.CanonicalHeaderName)
				if quick {
					hdr.EnableNormalizing()
				}
			}
			return c.Next()
		}
		if onReject != nil {
			if err := onReject(c, d); err != nil || answered(c) {
				return err
			}
		}
		c.Status(apptoken.RejectionStatus)
		c.Set(fiber.HeaderContentType, apptoken.RejectionContentType)
		c.Set(fiber.HeaderCacheControl, "no-store")
		// SetBody copies: the response never holds the shared slice.
		c.Response().SetBody(rejectionBody)
		return nil
	}
}

// normCache remembers, for the app last seen, whether fasthttp normalises
// the header names of its requests (fiber's DisableHeaderNormalizing is
// off): reading the app's Config copies a large struct, too much to do on
// every request.
type normCache struct {
	last atomic.Pointer[appNorm]
}

type appNorm struct {
	app *fiber.App
	on  bool
}

func (n *normCache) normalizes(app *fiber.App) bool {
	if app == nil {
		return false
	}
	if a := n.last.Load(); a != nil && a.app == app {
		return a.on
	}
	a := &appNorm{app: app, on: !app.Config().DisableHeaderNormalizing}
	n.last.Store(a)
	return a.on
}

// answered reports whether an error handler changed the response.
func answered(c *fiber.Ctx) bool {
	resp := c.Response()
	return resp.StatusCode() != fiber.StatusOK || resp.IsBodyStream() || len(resp.Body()) > 0
}
