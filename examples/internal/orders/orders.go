// Package orders holds what the example "orders" services share, whatever
// their framework: the listening address, the verifier, the logger, the
// counters and the fixed JSON answers.
package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// DefaultPort is the port served when APP_PORT is unset: the app port
// daprd is usually given (--app-port 3000).
const DefaultPort = "3000"

// MaxBody bounds the request bodies the services read.
const MaxBody = 1 << 20

// Fixed answers.
var (
	Subscriptions = []byte(`[{"pubsubname":"pubsub","topic":"orders","route":"/events/orders"}]`)
	EventAck      = []byte(`{"status":"SUCCESS"}`)
	Healthy       = []byte(`{"status":"ok"}`)
	NotJSON       = []byte(`{"error":"the order must be a JSON document"}`)
	// BindingAck answers daprd's input-binding calls: its discovery
	// (OPTIONS BindingPath, any 2xx means "the app takes this binding") and
	// each delivery (POST BindingPath, which daprd counts as done only on 200).
	BindingAck = []byte(`{}`)
)

// Routes served by every example. Only HealthPath is exempt.
const (
	HealthPath    = "/healthz"
	OrdersPath    = "/orders"
	SubscribePath = "/dapr/subscribe"
	EventsPath    = "/events/orders"
	StatsPath     = "/stats"
	// BindingPath is where daprd delivers the events of the input binding
	// named "cron" (daprd's default route for a binding is its name).
	BindingPath = "/cron"
)

// Logger returns the services' logger, text lines on stderr, and makes it
// slog's default, which the library's events (token reloads) go to.
func Logger() *slog.Logger {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)
	return log
}

// Addr is the address served: 127.0.0.1:$APP_PORT (default 3000).
func Addr() (string, error) { return loopbackAddr("APP_PORT", DefaultPort) }

// loopbackAddr is 127.0.0.1 and the port in the variable env, or def.
func loopbackAddr(env, def string) (string, error) {
	port := os.Getenv(env)
	if port == "" {
		port = def
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%s=%q is not a port number", env, port)
	}
	return net.JoinHostPort("127.0.0.1", port), nil
}

// Fail logs err and exits with status 1.
func Fail(log *slog.Logger, err error) {
	log.Error("orders app cannot start", "error", err.Error())
	os.Exit(1)
}

// MustVerifier returns the verifier built with the library's defaults: the
// file named by APP_API_TOKEN_FILE (reloaded when it changes) if that is
// set, else APP_API_TOKEN; or, when APP_API_TOKEN_KEYS is set, signed
// tokens (see TokenOptions). When there is no valid token or key it exits
// with status 1 and the library's message, which names the variable. Rejected
// requests are logged with their method, path and reason, never a token,
// at most 10 a minute and then one line counting the rest
// (apptoken.WithRejectionLog), so that a flood of bad requests cannot
// flood the log.
//
// When METRICS_PORT is set, the verifier's metrics (apptokenotel) are
// served in the Prometheus text format at
// http://127.0.0.1:$METRICS_PORT/metrics, on a listener of their own that
// lives as long as the process.
func MustVerifier(log *slog.Logger) *apptoken.Verifier {
	m, err := newMetrics()
	if err != nil {
		Fail(log, err)
	}
	opts := append(TokenOptions(), RejectionLog(log))
	if m != nil {
		opts = append(opts, m.m.Options()...)
	}
	v, err := apptoken.New(opts...)
	if err != nil {
		Fail(log, err)
	}
	if m != nil {
		if err := m.serve(log, v); err != nil {
			Fail(log, err)
		}
	}
	return v
}

// EveryRejectionVar names the environment variable that, set to 1, makes
// the services log every rejected request instead of at most 10 a minute:
// for the end-to-end suite, which counts the rejections of each route.
// Never in production, where a flood of bad requests would become a flood
// of log lines.
const EveryRejectionVar = "ORDERS_LOG_EVERY_REJECTION"

// RejectionLog is how the services log rejected requests: the library's
// WithRejectionLog, or every one when EveryRejectionVar is 1. Either way
// a line has the method, the path and the decision, never a token.
func RejectionLog(log *slog.Logger) apptoken.Option {
	if os.Getenv(EveryRejectionVar) != "1" {
		return apptoken.WithRejectionLog(log)
	}
	return apptoken.WithDecisionHook(func(d apptoken.Decision, method, path string) {
		if !d.Allowed() {
			log.Warn("apptoken: request rejected", "method", method, "path", path, "decision", d.String())
		}
	})
}

// Stats counts the orders, the events and the binding deliveries received.
type Stats struct {
	orders, events, bindings atomic.Int64
}

// Order counts an order.
func (s *Stats) Order() { s.orders.Add(1) }

// Event counts an event delivery.
func (s *Stats) Event() { s.events.Add(1) }

// Binding counts an input-binding delivery.
func (s *Stats) Binding() { s.bindings.Add(1) }

// JSON is the answer to GET /stats: {"orders":N,"events":M,"bindings":K}.
func (s *Stats) JSON() []byte {
	b, _ := json.Marshal(struct {
		Orders   int64 `json:"orders"`
		Events   int64 `json:"events"`
		Bindings int64 `json:"bindings"`
	}{s.orders.Load(), s.events.Load(), s.bindings.Load()})
	return b
}

// IsOrder reports whether body is acceptable as an order: a JSON document.
func IsOrder(body []byte) bool { return json.Valid(body) }

// Listen opens the listener on Addr and logs where the service listens.
func Listen(log *slog.Logger, framework string) net.Listener {
	addr, err := Addr()
	if err != nil {
		Fail(log, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		Fail(log, err)
	}
	log.Info("orders app listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String(), "framework", framework)
	return ln
}

// SignalContext is done at the first SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// ShutdownTimeout bounds the wait for requests in flight at shutdown.
const ShutdownTimeout = 10 * time.Second

// ServeHTTP serves h, an app built on net/http, until SIGINT or SIGTERM,
// then shuts down gracefully, closes v and exits.
func ServeHTTP(log *slog.Logger, framework string, v *apptoken.Verifier, stats *Stats, h http.Handler) {
	ln := Listen(log, framework)
	srv := &http.Server{
		Handler: h,
		// Otherwise net/http answers "OPTIONS *" itself, 200 before any
		// middleware (see the core package's documentation).
		DisableGeneralOptionsHandler: true,
		ReadHeaderTimeout:            10 * time.Second,
		ErrorLog:                     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ctx, stop := SignalContext()
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		Fail(log, err)
	case <-ctx.Done():
	}
	log.Info("stopping")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("shutdown", "error", err.Error())
	}
	_ = v.Close()
	log.Info("stopped", "stats", string(stats.JSON()))
}
