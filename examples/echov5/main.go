// Command echov5 is the "orders" example service on echo v5, behind the
// apptoken middleware. Run it from the repository root:
//
//	APP_API_TOKEN=$(openssl rand -base64 32) go run ./examples/echov5
package main

import (
	"errors"
	"io"
	"net/http"

	apptokenechov5 "github.com/apptoken-go/apptoken/adapters/echov5"
	"github.com/apptoken-go/apptoken/examples/internal/orders"
	"github.com/labstack/echo/v5"
)

func main() {
	log := orders.Logger()
	v := orders.MustVerifier(log)
	var stats orders.Stats

	e := echo.NewWithConfig(echo.Config{Logger: log})
	e.Use(apptokenechov5.Middleware(v)) // first: every request is checked, routed or not

	health := func(c *echo.Context) error { return c.JSONBlob(http.StatusOK, orders.Healthy) }
	e.GET(orders.HealthPath, health)
	e.HEAD(orders.HealthPath, health)
	e.POST(orders.OrdersPath, func(c *echo.Context) error {
		body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, orders.MaxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return echo.ErrStatusRequestEntityTooLarge
		case err != nil:
			return echo.ErrBadRequest
		case !orders.IsOrder(body):
			return c.JSONBlob(http.StatusBadRequest, orders.NotJSON)
		}
		stats.Order()
		return c.JSONBlob(http.StatusOK, body)
	})
	e.GET(orders.SubscribePath, func(c *echo.Context) error {
		return c.JSONBlob(http.StatusOK, orders.Subscriptions)
	})
	e.POST(orders.EventsPath, func(c *echo.Context) error {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(c.Response(), c.Request().Body, orders.MaxBody))
		stats.Event()
		return c.JSONBlob(http.StatusOK, orders.EventAck)
	})
	// Input binding "cron": daprd asks OPTIONS first (any 2xx: the app
	// takes it), then POSTs each event; only a 200 counts as delivered.
	e.OPTIONS(orders.BindingPath, func(c *echo.Context) error {
		return c.JSONBlob(http.StatusOK, orders.BindingAck)
	})
	e.POST(orders.BindingPath, func(c *echo.Context) error {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(c.Response(), c.Request().Body, orders.MaxBody))
		stats.Binding()
		return c.JSONBlob(http.StatusOK, orders.BindingAck)
	})
	e.GET(orders.StatsPath, func(c *echo.Context) error {
		return c.JSONBlob(http.StatusOK, stats.JSON())
	})

	orders.ServeHTTP(log, "echov5", v, &stats, e)
}
