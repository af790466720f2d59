package apptokenfiber

import (
	"bytes"
	"net/http"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/gofiber/fiber/v2"
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
	onReject func(c *fiber.Ctx, d apptoken.Decision) error
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
func WithErrorHandler(h func(c *fiber.Ctx, d apptoken.Decision) error) Option {
	return optionFunc(func(c *config) { c.onReject = h })
}

// Middleware returns fiber middleware (for App.Use, a group's Use, or a
// single route) that calls the next handler only when v allows the
// request, and otherwise answers with the standard rejection or the
// handler given by [WithErrorHandler]. When v hides the token (the
// default; see [apptoken.Verifier.HidesToken]), an allowed request reaches
// the next handler without its dapr-api-token header. It panics if v is
// nil.
func Middleware(v *apptoken.Verifier, opts ...Option) fiber.Handler {
	if v == nil {
		panic("apptokenfiber: Middleware: nil *apptoken.Verifier; make one with apptoken.New")
	}
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	onReject := cfg.onReject
	hide := v.HidesToken()
	return func(c *fiber.Ctx) error {
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
// verifier's decision hook sees such a request twice when it is allowed:
// here and in [Middleware]. It panics if v is nil.
func ContinueHandler(v *apptoken.Verifier) func(*fasthttp.RequestHeader) bool {
	if v == nil {
		panic("apptokenfiber: ContinueHandler: nil *apptoken.Verifier; make one with apptoken.New")
	}
	return func(h *fasthttp.RequestHeader) bool {
		var values []string
		for _, b := range headFields(h) {
			values = append(values, string(b))
		}
		path, _, _ := bytes.Cut(h.RequestURI(), []byte{'?'})
		return v.Verify(string(h.Method()), string(path), values).Allowed()
	}
}

// tokenField is the token header's name as net/http writes it, and so as
// daprd sends it over HTTP/1.1: the spelling found whether or not the app
// normalises header names (fiber's DisableHeaderNormalizing).
var tokenField = http.CanonicalHeaderKey(apptoken.HeaderName)

// tokenValues appends to dst the values of the token header sent in the
// request's head. One value, the case daprd sends, is fiber's own view of
// it (c.Get, valid while the handler runs); others are copied.
func tokenValues(c *fiber.Ctx, dst []string) []string {
	all := headFields(&c.Request().Header)
	if len(all) == 1 {
		return append(dst, c.Get(tokenField))
	}
	for _, b := range all {
		dst = append(dst, string(b))
	}
	return dst
}

// headFields returns the values of the token header sent in the request's
// head. fasthttp adds the trailer fields of a chunked request to its
// headers, after those of the head; a trailer arrives after the body, from
// whoever wrote the body, and must never count. So for a chunked request
// only as many values are taken as the head has fields of that name,
// counted in the head as received (RawHeaders).
func headFields(h *fasthttp.RequestHeader) [][]byte {
	all := h.PeekAll(tokenField)
	if h.ContentLength() == -1 { // chunked: trailer fields may follow
		all = all[:min(len(all), countFields(h.RawHeaders(), apptoken.HeaderName))]
	}
	return all
}

// countFields counts the header lines of raw named name.
func countFields(raw []byte, name string) int {
	n := 0
	for len(raw) > 0 {
		var line []byte
		line, raw, _ = bytes.Cut(raw, []byte{'\n'})
		if key, _, ok := bytes.Cut(line, []byte{':'}); ok && bytes.EqualFold(key, []byte(name)) {
			n++
		}
	}
	return n
}

// answered reports whether an error handler changed the response.
func answered(c *fiber.Ctx) bool {
	resp := c.Response()
	return resp.StatusCode() != fiber.StatusOK || resp.IsBodyStream() || len(resp.Body()) > 0
}
