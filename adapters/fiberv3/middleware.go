package apptokenfiberv3

import (
	"bytes"
	"net/http"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
)

// Option configures [Middleware]. Options are made by the With… functions
// of this package; the interface is sealed.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	onReject func(c fiber.Ctx, d apptoken.Decision) error
}

// WithErrorHandler answers rejected requests with h instead of the standard
// rejection. h is given the decision (never the token) and should write the
// response, or return an error for fiber's ErrorHandler to answer (for
// example fiber.ErrUnauthorized); the middleware returns what h returns and
// never calls the next handler. Keep to the rule of
// [apptoken.RejectionStatus]: never 2xx, never 404. If h returns nil and
// leaves the response as it found it (status 200, no body), the standard
// rejection is written, so a forgetful handler never turns a rejection into
// a 200. A nil h restores the standard rejection.
func WithErrorHandler(h func(c fiber.Ctx, d apptoken.Decision) error) Option {
	return optionFunc(func(c *config) { c.onReject = h })
}

// Middleware returns fiber v3 middleware (for App.Use, a group's Use, or a
// single route) that calls the next handler only when v allows the
// request (see [apptoken.Verifier.Verify]), and otherwise answers with the
// standard rejection or the handler given by [WithErrorHandler]. When v
// hides the token (the default; see [apptoken.Verifier.HidesToken]), an
// allowed request reaches the next handler without its dapr-api-token
// header. It panics if v is nil.
func Middleware(v *apptoken.Verifier, opts ...Option) fiber.Handler {
	if v == nil {
		panic("apptokenfiberv3: Middleware: nil *apptoken.Verifier; make one with apptoken.New")
	}
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	onReject := cfg.onReject
	hide := v.HidesToken()
	return func(c fiber.Ctx) error {
		// c.Path is the path as sent, without the query (decoded only if
		// the app sets UnescapePath, as its router then routes on it).
		var one [1]string
		d := v.Verify(c.Method(), c.Path(), tokenValues(c, one[:0]))
		if d.Allowed() {
			if hide {
				c.Request().Header.Del(tokenField)
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
		return c.SendString(apptoken.RejectionBody)
	}
}

// ContinueHandler returns a function for fasthttp's
// Server.ContinueHandler (app.Server().ContinueHandler = ...), so that a
// request that asks "Expect: 100-continue" and does not carry an accepted
// token (or an exemption) is refused before its body is read: fasthttp
// then answers 417 Expectation Failed and closes the connection, and no
// handler runs. Without it fasthttp answers 100 Continue and reads the
// body (up to the app's BodyLimit) before any middleware runs. daprd
// never sends Expect, so this only changes what other callers get. The
// path is taken as sent, never decoded, whatever the app's UnescapePath.
// The verifier's decision hook sees such a request twice when it is
// allowed: here and in [Middleware]. It panics if v is nil.
func ContinueHandler(v *apptoken.Verifier) func(*fasthttp.RequestHeader) bool {
	if v == nil {
		panic("apptokenfiberv3: ContinueHandler: nil *apptoken.Verifier; make one with apptoken.New")
	}
	return func(h *fasthttp.RequestHeader) bool {
		// The body, and so any trailer, has not been read yet: every
		// value is from the request's head.
		var values []string
		for _, b := range h.PeekAll(tokenField) {
			values = append(values, string(b))
		}
		u := fasthttp.AcquireURI()
		defer fasthttp.ReleaseURI(u)
		path := "" // a target fasthttp cannot parse is never exempt
		if u.Parse(h.Host(), h.RequestURI()) == nil {
			path = string(u.PathOriginal())
		}
		return v.Verify(string(h.Method()), path, values).Allowed()
	}
}

// tokenField is the token header's name as net/http writes it, and so as
// daprd sends it over HTTP/1.1: the spelling found whether or not the app
// normalises header names (fiber's DisableHeaderNormalizing).
var tokenField = http.CanonicalHeaderKey(apptoken.HeaderName)

// tokenValues appends to dst the values of the token header sent in the
// request's head. One value, the case daprd sends, is fiber's own view of
// it (c.Get: no copy unless the app is Immutable, valid while the handler
// runs); others are copied.
func tokenValues(c fiber.Ctx, dst []string) []string {
	h := &c.Request().Header
	all := h.PeekAll(tokenField)
	if h.ContentLength() == -1 { // chunked: trailer fields may follow
		all = all[:min(len(all), headCount(h))]
	}
	if len(all) == 1 {
		return append(dst, c.Get(tokenField))
	}
	for _, b := range all {
		dst = append(dst, string(b))
	}
	return dst
}

// headCount counts the token header's fields in the request's head.
// fasthttp adds the trailer fields of a chunked request to its headers,
// after those of the head; a trailer arrives after the body, from whoever
// wrote the body, and must never count. AllInOrder walks the head as
// received, without the trailer.
func headCount(h *fasthttp.RequestHeader) int {
	n := 0
	for key := range h.AllInOrder() {
		if bytes.EqualFold(key, []byte(tokenField)) {
			n++
		}
	}
	return n
}

// answered reports whether an error handler changed the response.
func answered(c fiber.Ctx) bool {
	resp := c.Response()
	return resp.StatusCode() != fiber.StatusOK || resp.IsBodyStream() || len(resp.Body()) > 0
}
