// Command fiber is the "orders" example service on fiber, behind the
// apptoken middleware. Run it from the repository root:
//
//	APP_API_TOKEN=$(openssl rand -base64 32) go run ./examples/fiber
package main

import (
	"errors"
	"net/http"

	apptokenfiber "github.com/apptoken-go/apptoken/adapters/fiber"
	"github.com/apptoken-go/apptoken/examples/internal/orders"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

func main() {
	log := orders.Logger()
	v := orders.MustVerifier(log)
	var stats orders.Stats

	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		// fasthttp answers 431 itself, before any middleware, to requests
		// whose headers exceed this (4096 bytes by default).
		ReadBufferSize: 16 << 10,
		BodyLimit:      orders.MaxBody,
		// The status only: fiber's default answer to a request fasthttp
		// cannot parse quotes the offending header, token included.
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			code := fiber.StatusInternalServerError
			var fe *fiber.Error
			if errors.As(err, &fe) {
				code = fe.Code
			}
			return c.Status(code).SendString(utils.StatusMessage(code))
		},
	})
	app.Use(apptokenfiber.Middleware(v)) // first: every request is checked, routed or not
	// Refuse "Expect: 100-continue" requests without the token before
	// fasthttp reads their body.
	app.Server().ContinueHandler = apptokenfiber.ContinueHandler(v)

	app.Get(orders.HealthPath, func(c *fiber.Ctx) error {
		return sendJSON(c, http.StatusOK, orders.Healthy)
	})
	app.Post(orders.OrdersPath, func(c *fiber.Ctx) error {
		body := c.Body()
		if !orders.IsOrder(body) {
			return sendJSON(c, http.StatusBadRequest, orders.NotJSON)
		}
		stats.Order()
		// c.Body() belongs to fasthttp's request buffer: send a copy.
		return sendJSON(c, http.StatusOK, append([]byte(nil), body...))
	})
	app.Get(orders.SubscribePath, func(c *fiber.Ctx) error {
		return sendJSON(c, http.StatusOK, orders.Subscriptions)
	})
	app.Post(orders.EventsPath, func(c *fiber.Ctx) error {
		stats.Event()
		return sendJSON(c, http.StatusOK, orders.EventAck)
	})
	// Input binding "cron": daprd asks OPTIONS first (any 2xx: the app
	// takes it), then POSTs each event; only a 200 counts as delivered.
	app.Options(orders.BindingPath, func(c *fiber.Ctx) error {
		return sendJSON(c, http.StatusOK, orders.BindingAck)
	})
	app.Post(orders.BindingPath, func(c *fiber.Ctx) error {
		stats.Binding()
		return sendJSON(c, http.StatusOK, orders.BindingAck)
	})
	app.Get(orders.StatsPath, func(c *fiber.Ctx) error {
		return sendJSON(c, http.StatusOK, stats.JSON())
	})

	ln := orders.Listen(log, "fiber")
	ctx, stop := orders.SignalContext()
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	select {
	case err := <-errc:
		orders.Fail(log, err)
	case <-ctx.Done():
	}
	log.Info("stopping")
	if err := app.ShutdownWithTimeout(orders.ShutdownTimeout); err != nil {
		log.Error("shutdown", "error", err.Error())
	}
	_ = v.Close()
	log.Info("stopped", "stats", string(stats.JSON()))
}

func sendJSON(c *fiber.Ctx, status int, body []byte) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}
