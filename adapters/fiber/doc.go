// Package apptokenfiber checks the app API token that a Dapr sidecar (daprd)
// sends to its application, as fiber (v2) middleware.
//
// It only translates: it reads the dapr-api-token values of the request's
// head and its path with fiber's public API, asks the core package's
// [apptoken.Verifier.Verify], and on an accepted request removes the token
// header before the next handler runs, unless [apptoken.WithKeepHeader]
// was given.
//
//	import (
//		apptoken "github.com/apptoken-go/apptoken/core"
//		apptokenfiber "github.com/apptoken-go/apptoken/adapters/fiber"
//		"github.com/gofiber/fiber/v2"
//	)
//
//	v, err := apptoken.New() // APP_API_TOKEN, or the file named by APP_API_TOKEN_FILE
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	app := fiber.New()
//	app.Use(apptokenfiber.Middleware(v)) // before any route
//	app.Post("/orders", createOrder)
//
// Middleware given to App.Use before the routes runs for every request
// fiber routes, those without a matching route included, so such a request
// without a valid token gets 401, not fiber's 404. A rejected request is
// answered 401 with the core's JSON body in Dapr's error shape and
// Cache-Control: no-store, the same for a missing and a wrong token;
// [WithErrorHandler] replaces the answer.
//
// # What fiber and fasthttp answer before any middleware
//
//   - Request headers larger than fiber.Config.ReadBufferSize (4096 bytes by
//     default) are answered 431 by fasthttp before fiber runs. Nothing is let
//     through, but such a request never reaches the middleware. daprd's own
//     requests fit easily; raise ReadBufferSize if the application takes
//     large headers.
//
//   - A method fiber does not know (not in fiber.Config.RequestMethods, which
//     defaults to the standard methods; methods are case-sensitive, so "get"
//     is unknown too) is answered 400 "Invalid http method" before any
//     handler or middleware runs.
//
//   - fasthttp reads the whole body before any handler runs (up to
//     fiber.Config.BodyLimit), and for a request that asks "Expect:
//     100-continue" it first answers 100 Continue. [ContinueHandler], set as
//     app.Server().ContinueHandler, refuses such a request without an
//     accepted token before its body is read (fasthttp then answers 417).
//
//   - fasthttp adds a chunked request's trailer fields to its headers. The
//     middleware counts only the dapr-api-token fields of the request's
//     head: a trailer comes after the body and never counts.
//
//   - A request fasthttp cannot parse (a control byte in a header value)
//     is answered 400 through the app's ErrorHandler, before any middleware,
//     with fasthttp's error text; with fasthttp v1.69 and later (what fiber
//     v3 brings into a module that also uses fiber v2), fiber v2's default
//     ErrorHandler puts that text, which quotes the header's value and so
//     the token, in the answer. Give the app an ErrorHandler that answers
//     the status only, as shown below.
//
//   - fasthttp keeps the request's raw header block: a handler that reads
//     Request().Header.RawHeaders() still sees the token after the header
//     was removed. Use the parsed header, which no longer has it.
//
//   - With fiber.Config{DisableHeaderNormalizing: true}, fasthttp matches
//     header names exactly as sent: only the spelling "Dapr-Api-Token",
//     which daprd sends over HTTP/1.1, is then seen and removed, and a value
//     sent under any other spelling is neither checked nor removed. Keep
//     normalizing on.
//
// Exemptions are matched against c.Path(): the path as sent, or decoded
// when the app sets fiber.Config.UnescapePath, as its router then routes on
// the decoded path too. Middleware panics if given a nil verifier.
//
// An ErrorHandler that answers fiber's errors with their status only:
//
//	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
//		code := fiber.StatusInternalServerError
//		if e := (*fiber.Error)(nil); errors.As(err, &e) {
//			code = e.Code
//		}
//		return c.Status(code).SendString(utils.StatusMessage(code))
//	}})
package apptokenfiber
