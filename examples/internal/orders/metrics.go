package orders

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenotel "github.com/apptoken-go/apptoken/otel"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// MetricsPortEnv names the variable that turns the metrics on: when it is
// set, the verifier's metrics are served in the Prometheus text format at
// http://127.0.0.1:$METRICS_PORT/metrics.
const MetricsPortEnv = "METRICS_PORT"

// MetricsPath is where the metrics are served, on the metrics port only.
const MetricsPath = "/metrics"

// metrics is the verifier's metrics, on their own listener: a scraper
// carries no Dapr token, and the app port stays fully protected.
type metrics struct {
	m        *apptokenotel.Metrics
	registry *prometheus.Registry
	ln       net.Listener
}

// newMetrics returns nil when METRICS_PORT is unset; else it makes the
// OpenTelemetry metrics, exported through a Prometheus registry of their
// own, and opens their listener, so that a port already taken fails at
// start.
func newMetrics() (*metrics, error) {
	if os.Getenv(MetricsPortEnv) == "" {
		return nil, nil
	}
	addr, err := loopbackAddr(MetricsPortEnv, "")
	if err != nil {
		return nil, err
	}
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, err
	}
	m, err := apptokenotel.New(apptokenotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &metrics{m: m, registry: registry, ln: ln}, nil
}

// serve observes v and serves GET /metrics until the process exits.
func (s *metrics) serve(log *slog.Logger, v *apptoken.Verifier) error {
	if _, err := s.m.Observe(v); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsPath, promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "error", err.Error())
		}
	}()
	log.Info("metrics listening", "url", "http://"+s.ln.Addr().String()+MetricsPath)
	return nil
}
