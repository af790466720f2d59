package apptokenfiber_test

import (
	"fmt"
	"io"
	"log"
	"net/http/httptest"

	apptokenfiber "github.com/apptoken-go/apptoken/adapters/fiber"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/gofiber/fiber/v2"
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
