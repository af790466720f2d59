package apptokenfiberv3_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"

	apptokenfiberv3 "github.com/apptoken-go/apptoken/adapters/fiberv3"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/gofiber/fiber/v3"
)

// send sends one request through app.Test (the whole fiber stack, in
// process) and prints the answer.
func send(app *fiber.App, method, path, token string) {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := app.Test(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(method, path, resp.StatusCode, string(body))
}

func Example() {
	// In production: apptoken.New(), which reads APP_API_TOKEN.
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	app := fiber.New()
	app.Use("/*", apptokenfiberv3.Middleware(v)) // on "/*": every request target, not only those starting with "/"
	app.Get("/healthz", func(c fiber.Ctx) error { return c.SendString("ok") })
	app.Post("/orders", func(c fiber.Ctx) error {
		return c.SendString(fmt.Sprintf("order accepted, token header seen: %q", c.Get("dapr-api-token")))
	})

	send(app, "POST", "/orders", "example-token")
	send(app, "POST", "/orders", "wrong")
	send(app, "POST", "/orders", "")
	send(app, "GET", "/healthz", "")
	send(app, "GET", "/HEALTHZ", "") // fiber routes it to /healthz; it is not the exempt path
	// Output:
	// POST /orders 200 order accepted, token header seen: ""
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// POST /orders 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
	// GET /healthz 200 ok
	// GET /HEALTHZ 401 {"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}
}

func ExampleWithErrorHandler() {
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	app := fiber.New()
	app.Use("/*", apptokenfiberv3.Middleware(v, apptokenfiberv3.WithErrorHandler(func(c fiber.Ctx, d apptoken.Decision) error {
		// d says why (missing, mismatch, ...), for logs and metrics: keep
		// it out of the answer, and never answer 2xx or 404 (see
		// apptoken.RejectionStatus). Returning an error, such as
		// fiber.ErrUnauthorized, leaves the answer to fiber's ErrorHandler.
		fmt.Println("rejected:", d)
		return c.Status(fiber.StatusUnauthorized).SendString("no entry")
	})))
	app.Post("/orders", func(c fiber.Ctx) error { return c.SendString("order accepted") })

	send(app, "POST", "/orders", "wrong")
	send(app, "POST", "/orders", "example-token")
	// Output:
	// rejected: mismatch
	// POST /orders 401 no entry
	// POST /orders 200 order accepted
}

func ExampleContinueHandler() {
	v, err := apptoken.New(apptoken.WithTokens("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	app := fiber.New()
	app.Use("/*", apptokenfiberv3.Middleware(v))
	// Refuse "Expect: 100-continue" requests without the token before
	// fasthttp reads their body.
	app.Server().ContinueHandler = apptokenfiberv3.ContinueHandler(v)
	app.Post("/orders", func(c fiber.Ctx) error { return c.SendString("order accepted") })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	defer func() { _ = app.Shutdown() }()

	for _, token := range []string{"", "example-token"} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			log.Fatal(err)
		}
		head := "POST /orders HTTP/1.1\r\nHost: orders\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
		if token != "" {
			head += "Dapr-Api-Token: " + token + "\r\n"
		}
		_, _ = io.WriteString(conn, head+"\r\n") // the body waits for the answer
		line, _ := bufio.NewReader(conn).ReadString('\n')
		fmt.Printf("token %q: %s\n", token, strings.TrimSpace(line))
		_ = conn.Close()
	}
	// Output:
	// token "": HTTP/1.1 417 Expectation Failed
	// token "example-token": HTTP/1.1 100 Continue
}
