// Command chi is the "orders" example service on chi, behind the apptoken
// middleware. Run it from the repository root:
//
//	APP_API_TOKEN=$(openssl rand -base64 32) go run ./examples/chi
package main

import (
	"errors"
	"io"
	"net/http"

	apptokenchi "github.com/apptoken-go/apptoken/adapters/chi"
	"github.com/apptoken-go/apptoken/examples/internal/orders"
	"github.com/go-chi/chi/v5"
)

func main() {
	log := orders.Logger()
	v := orders.MustVerifier(log)
	var stats orders.Stats

	r := chi.NewRouter()
	r.Use(apptokenchi.Middleware(v)) // first: every request is checked, routed or not
	health := func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, orders.Healthy) }
	r.Get(orders.HealthPath, health)
	r.Head(orders.HealthPath, health)
	r.Post(orders.OrdersPath, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, orders.MaxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		case err != nil:
			http.Error(w, "cannot read the request body", http.StatusBadRequest)
		case !orders.IsOrder(body):
			writeJSON(w, http.StatusBadRequest, orders.NotJSON)
		default:
			stats.Order()
			writeJSON(w, http.StatusOK, body)
		}
	})
	r.Get(orders.SubscribePath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, orders.Subscriptions)
	})
	r.Post(orders.EventsPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, orders.MaxBody))
		stats.Event()
		writeJSON(w, http.StatusOK, orders.EventAck)
	})
	// Input binding "cron": daprd asks OPTIONS first (any 2xx: the app
	// takes it), then POSTs each event; only a 200 counts as delivered.
	r.Options(orders.BindingPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, orders.BindingAck)
	})
	r.Post(orders.BindingPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, orders.MaxBody))
		stats.Binding()
		writeJSON(w, http.StatusOK, orders.BindingAck)
	})
	r.Get(orders.StatsPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, stats.JSON())
	})

	orders.ServeHTTP(log, "chi", v, &stats, r)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
