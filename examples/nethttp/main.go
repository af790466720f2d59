// Command nethttp is the "orders" example service on the standard
// library's http.ServeMux, wrapped whole by the apptoken net/http
// middleware. Run it from the repository root:
//
//	APP_API_TOKEN=$(openssl rand -base64 32) go run ./examples/nethttp
package main

import (
	"errors"
	"io"
	"net/http"

	apptokenchi "github.com/apptoken-go/apptoken/adapters/chi"
	"github.com/apptoken-go/apptoken/examples/internal/orders"
)

func main() {
	log := orders.Logger()
	v := orders.MustVerifier(log)
	var stats orders.Stats

	mux := http.NewServeMux()
	// A GET pattern serves HEAD too.
	mux.HandleFunc("GET "+orders.HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, orders.Healthy)
	})
	mux.HandleFunc("POST "+orders.OrdersPath, func(w http.ResponseWriter, r *http.Request) {
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
	mux.HandleFunc("GET "+orders.SubscribePath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, orders.Subscriptions)
	})
	mux.HandleFunc("POST "+orders.EventsPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, orders.MaxBody))
		stats.Event()
		writeJSON(w, http.StatusOK, orders.EventAck)
	})
	// Input binding "cron": daprd asks OPTIONS first (any 2xx: the app
	// takes it), then POSTs each event; only a 200 counts as delivered.
	mux.HandleFunc("OPTIONS "+orders.BindingPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, orders.BindingAck)
	})
	mux.HandleFunc("POST "+orders.BindingPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, orders.MaxBody))
		stats.Binding()
		writeJSON(w, http.StatusOK, orders.BindingAck)
	})
	mux.HandleFunc("GET "+orders.StatsPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, stats.JSON())
	})

	// The middleware wraps the whole mux, so every request is checked
	// before the mux answers it (its 404, 405 and path-cleaning redirects
	// included). orders.ServeHTTP sets DisableGeneralOptionsHandler.
	orders.ServeHTTP(log, "nethttp", v, &stats, apptokenchi.Middleware(v)(mux))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
