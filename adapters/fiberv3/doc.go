// Package apptokenfiberv3 checks the app API token that a Dapr sidecar
// (daprd) sends to its application, as fiber v3 middleware.
//
// It is the fiber v3 twin of the apptokenfiber package (fiber v2), and only
// translates: it reads the values of the dapr-api-token header sent in the
// request's head (the one value daprd sends through fiber's c.Get, without
// a copy unless the app is Immutable), takes the path as the client sent
// it (c.Path: without the query, neither decoded nor cleaned), and asks the
// core package's [apptoken.Verifier.Verify]. On an accepted request it
// removes the token header before the next handler runs, unless
// [apptoken.WithKeepHeader] was given.
//
//	import (
//		apptoken "github.com/apptoken-go/apptoken/core"
//		apptokenfiberv3 "github.com/apptoken-go/apptoken/adapters/fiberv3"
//		"github.com/gofiber/fiber/v3"
//	)
//
//	v, err := apptoken.New() // APP_API_TOKEN, or the file named by APP_API_TOKEN_FILE
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	app := fiber.New(fiber.Config{ErrorHandler: quietErrors}) // see below
//	app.Use("/*", apptokenfiberv3.Middleware(v))             // on "/*", before any route
//	app.Server().ContinueHandler = apptokenfiberv3.ContinueHandler(v)
//	app.Post("/orders", createOrder)
//
// Middleware given to App.Use on "/*" before the routes runs for every
// request fiber routes, those without a matching route included, so such a
// request without a valid token gets 401, not fiber's 404. A rejected
// request is answered 401 with the core's JSON body in Dapr's error shape
// and Cache-Control: no-store, the same for a missing and a wrong token;
// [WithErrorHandler] replaces the answer.
//
// # What differs from fiber v2
//
//   - Handlers take a fiber.Ctx (an interface, no longer a *fiber.Ctx), and
//     so does the handler given to [WithErrorHandler].
//   - Register the middleware on "/*" (app.Use("/*", ...)), not with
//     app.Use(mw) alone: fiber v3 runs a Use without a path only for
//     request targets that start with "/", while its wildcard routes match
//     any target, so "GET *" or "GET healthz" would reach a route on "/*"
//     without the check.
//   - A method fiber does not know (not in fiber.Config.RequestMethods;
//     methods are case-sensitive, so "get" is unknown too) is answered 501
//     Not Implemented, no longer 400, before any middleware runs.
//   - When fasthttp cannot read a request's head (a control byte in a
//     header value, a head larger than fiber.Config.ReadBufferSize), fiber
//     v3 runs the Use middleware on an empty request, which the verifier
//     rejects as "missing" (the decision hook sees GET "/"), and then
//     answers 400 or 431 through the app's ErrorHandler. fiber's default
//     ErrorHandler sends the error's text, and fasthttp's text quotes the
//     offending header line: a token sent in a malformed header comes back
//     in the answer. Set an ErrorHandler that answers the status alone.
//
// Such an ErrorHandler, the quietErrors of the example above:
//
//	func quietErrors(c fiber.Ctx, err error) error {
//		code := fiber.StatusInternalServerError
//		var e *fiber.Error
//		if errors.As(err, &e) {
//			code = e.Code
//		}
//		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
//		return c.Status(code).SendString(http.StatusText(code))
//	}
//
// # What fasthttp does, as with fiber v2
//
//   - fasthttp reads the whole body before any handler runs (up to
//     fiber.Config.BodyLimit), and for a request that asks "Expect:
//     100-continue" it first answers 100 Continue. [ContinueHandler], set as
//     app.Server().ContinueHandler, refuses such a request without an
//     accepted token before its body is read (fasthttp then answers 417).
//   - Request heads larger than fiber.Config.ReadBufferSize (4096 bytes by
//     default) are refused (431, above). daprd's own requests fit easily;
//     raise ReadBufferSize if the application takes large headers.
//   - fasthttp adds a chunked request's trailer fields to its headers. The
//     middleware counts only the dapr-api-token fields of the request's
//     head: a trailer comes after the body and never counts.
//   - fasthttp keeps the request's raw header block: a handler that reads
//     Request().Header.RawHeaders() (or AllInOrder) still sees the token
//     after the header was removed. Use the parsed header, which no longer
//     has it.
//   - With fiber.Config{DisableHeaderNormalizing: true}, fasthttp matches
//     header names exactly as sent: only the spelling "Dapr-Api-Token",
//     which daprd sends over HTTP/1.1, is then seen and removed. Keep
//     normalizing on.
//
// Exemptions are matched against c.Path(): the path as sent, or decoded
// when the app sets fiber.Config.UnescapePath, as its router then routes on
// the decoded path too. Middleware and ContinueHandler panic if given a nil
// verifier.
package apptokenfiberv3
