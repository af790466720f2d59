// Command gin is the "orders" example service on gin, behind the apptoken
// middleware. Run it from the repository root:
//
//	APP_API_TOKEN=$(openssl rand -base64 32) go run ./examples/gin
package main

import (
	"errors"
	"io"
	"net/http"

	apptokengin "github.com/apptoken-go/apptoken/adapters/gin"
	"github.com/apptoken-go/apptoken/examples/internal/orders"
	"github.com/gin-gonic/gin"
)

func main() {
	log := orders.Logger()
	v := orders.MustVerifier(log)
	var stats orders.Stats

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// gin answers these redirects before any middleware; without them every
	// request is checked first (see the adapter's documentation).
	r.RedirectTrailingSlash = false
	r.Use(gin.Recovery(), apptokengin.Middleware(v))

	health := func(c *gin.Context) { c.Data(http.StatusOK, "application/json", orders.Healthy) }
	r.GET(orders.HealthPath, health)
	r.HEAD(orders.HealthPath, health)
	r.POST(orders.OrdersPath, func(c *gin.Context) {
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, orders.MaxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			c.String(http.StatusRequestEntityTooLarge, "request body too large")
		case err != nil:
			c.String(http.StatusBadRequest, "cannot read the request body")
		case !orders.IsOrder(body):
			c.Data(http.StatusBadRequest, "application/json", orders.NotJSON)
		default:
			stats.Order()
			c.Data(http.StatusOK, "application/json", body)
		}
	})
	r.GET(orders.SubscribePath, func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", orders.Subscriptions)
	})
	r.POST(orders.EventsPath, func(c *gin.Context) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(c.Writer, c.Request.Body, orders.MaxBody))
		stats.Event()
		c.Data(http.StatusOK, "application/json", orders.EventAck)
	})
	// Input binding "cron": daprd asks OPTIONS first (any 2xx: the app
	// takes it), then POSTs each event; only a 200 counts as delivered.
	r.OPTIONS(orders.BindingPath, func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", orders.BindingAck)
	})
	r.POST(orders.BindingPath, func(c *gin.Context) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(c.Writer, c.Request.Body, orders.MaxBody))
		stats.Binding()
		c.Data(http.StatusOK, "application/json", orders.BindingAck)
	})
	r.GET(orders.StatsPath, func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", stats.JSON())
	})

	orders.ServeHTTP(log, "gin", v, &stats, r)
}
