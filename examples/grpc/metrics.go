package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenotel "github.com/apptoken-go/apptoken/otel"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// metrics is the verifier's metrics, served in the Prometheus text format
// at /metrics on a listener of their own: a scraper carries no Dapr token,
// and the app port stays fully protected.
type metrics struct {
	m        *apptokenotel.Metrics
	registry *prometheus.Registry
	ln       net.Listener
}

// newMetrics makes the OpenTelemetry metrics, exported through a
// Prometheus registry of their own, and opens their listener on
// 127.0.0.1:port, so that a port already taken fails at start.
func newMetrics(port string) (*metrics, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, err
	}
	m, err := apptokenotel.New(apptokenotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return nil, err
	}
	return &metrics{m: m, registry: registry, ln: ln}, nil
}

// serve observes v and serves GET /metrics until stop is called.
func (s *metrics) serve(log *slog.Logger, v *apptoken.Verifier) (stop func(), err error) {
	reg, err := s.m.Observe(v)
	if err != nil {
		_ = s.ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "error", err.Error())
		}
	}()
	log.Info("metrics listening", "url", "http://"+s.ln.Addr().String()+"/metrics")
	return func() {
		_ = srv.Close()
		<-served
		_ = reg.Unregister()
	}, nil
}
