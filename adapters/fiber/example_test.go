package apptokenfiber_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	apptokenfiber "github.com/apptoken-go/apptoken/adapters/fiber"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

func Example() {
	// In production: apptoken.New(), which reads APP_API_TOKEN.
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	app := fiber.New()
	app.Use(apptokenfiber.Middleware(v))
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Post("/orders", func(c *fiber.Ctx) error {
		return c.SendString(fmt.Sprintf("order accepted, token header seen: %q", c.Get("dapr-api-token")))
	})

	call := func(method, path, token string) {
		req := httptest.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set("dapr-api-token", token)
		}
		resp, err := app.Test(req) // the whole fiber stack, in process
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(method, path, resp.StatusCode, string(body))
	}
	call("POST", "/orders", "example-token")
	call("POST", "/orders", "wrong")
	call("POST", "/orders", "")
	call("GET", "/healthz", "")
	call("GET", "/HEALTHZ", "") // fiber routes it to /healthz; it is not the exempt path
	// Output:
	// POST /orders 200 order accepted, token header seen: ""
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// GET /healthz 200 ok
	// GET /HEALTHZ 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
}

// The rejection answered the application's way. The decision says why,
// for logs; keep it out of the answer, and never answer 2xx or 404 (see
// apptoken.RejectionStatus).
func ExampleWithErrorHandler() {
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(apptokenfiber.Middleware(v, apptokenfiber.WithErrorHandler(func(c *fiber.Ctx, d apptoken.Decision) error {
		log.Printf("rejected: %s", d)
		return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{"error": "unauthorized"})
	})))
	app.Post("/orders", func(c *fiber.Ctx) error { return c.SendString("ok") })

	resp, err := app.Test(httptest.NewRequest(http.MethodPost, "/orders", nil))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 401 {"error":"unauthorized"}
}

// Requests that ask "Expect: 100-continue" without the token are refused
// before fasthttp reads their body (it then answers 417).
func ExampleContinueHandler() {
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(apptokenfiber.Middleware(v))
	app.Server().ContinueHandler = apptokenfiber.ContinueHandler(v)

	// What fasthttp asks it, given the head of such a request:
	for _, tok := range []string{"", "wrong", "example-token"} {
		var h fasthttp.RequestHeader
		h.SetMethod(http.MethodPost)
		h.SetRequestURI("/orders")
		h.Set("Expect", "100-continue")
		if tok != "" {
			h.Set("Dapr-Api-Token", tok)
		}
		fmt.Printf("token %q: read the body: %v\n", tok, app.Server().ContinueHandler(&h))
	}
	// Output:
	// token "": read the body: false
	// token "wrong": read the body: false
	// token "example-token": read the body: true
}
