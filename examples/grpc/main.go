package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	apptokenjwt "github.com/apptoken-go/apptoken/jwt"
)

// Environment variables read besides the token's (APP_API_TOKEN_FILE,
// else APP_API_TOKEN, read by apptoken.New).
const (
	envPort        = "APP_PORT"
	envLegacy      = "APPTOKEN_LEGACY_SIDECAR"
	envMetricsPort = "METRICS_PORT"

	defaultPort = "50051"
	// stopGrace is how long a graceful stop may wait for calls in flight.
	stopGrace = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

type config struct {
	port        string
	legacy      bool
	metricsPort string // "": no metrics
}

func parseConfig(args []string, out io.Writer) (config, error) {
	c := config{port: defaultPort}
	if p := os.Getenv(envPort); p != "" {
		c.port = p
	}
	if n, err := strconv.ParseUint(c.port, 10, 16); err != nil || n > 65535 {
		return c, fmt.Errorf("%s=%q is not a port number", envPort, c.port)
	}
	if p := os.Getenv(envMetricsPort); p != "" {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return c, fmt.Errorf("%s=%q is not a port number", envMetricsPort, p)
		}
		c.metricsPort = p
	}
	if s := os.Getenv(envLegacy); s != "" {
		on, err := strconv.ParseBool(s)
		if err != nil {
			return c, fmt.Errorf("%s=%q: want 1 or 0", envLegacy, s)
		}
		c.legacy = on
	}
	fs := flag.NewFlagSet("orders", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&c.legacy, "legacy-sidecar", c.legacy,
		"accept OnTopicEvent, OnBindingEvent and OnJobEvent without a token, for daprd older than v1.15.13 / v1.16.2 (insecure; also "+envLegacy+"=1)")
	fs.Usage = func() {
		_, _ = fmt.Fprintf(out, "usage: orders [-legacy-sidecar]\n\n"+
			"A gRPC app for Dapr (daprd --app-protocol grpc) that checks the app API token.\n"+
			"Token: the file named by APP_API_TOKEN_FILE, else APP_API_TOKEN.\n"+
			"Listens on 127.0.0.1:$%s (default %s); with %s set, serves the verifier's metrics\n"+
			"in the Prometheus text format at http://127.0.0.1:$%s/metrics.\n\n", envPort, defaultPort, envMetricsPort, envMetricsPort)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

// run serves until ctx is done, then stops gracefully. ready, if not nil,
// is told the listening address.
func run(ctx context.Context, args []string, out io.Writer, ready func(net.Addr)) error {
	cfg, err := parseConfig(args, out)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(out, nil))

	// Rejected calls are logged with their method and reason, never a
	// token, at most 10 a minute and then one line counting the rest; or
	// every one with ORDERS_LOG_EVERY_REJECTION=1, for the end-to-end suite,
	// which counts them per method (never in production: a flood of bad
	// calls would become a flood of lines).
	opts := []apptoken.Option{apptoken.WithRejectionLog(log)}
	if os.Getenv("ORDERS_LOG_EVERY_REJECTION") == "1" {
		opts[0] = apptoken.WithDecisionHook(func(d apptoken.Decision, method, path string) {
			if !d.Allowed() {
				log.Warn("apptoken: request rejected", "method", method, "path", path, "decision", d.String())
			}
		})
	}
	if cfg.legacy {
		opts = append(opts, apptoken.WithInsecureLegacySidecarGRPC())
	}
	if keys, ok := apptokenjwt.FromEnv(); ok { // signed tokens, as the HTTP examples
		opts = append(opts, apptoken.WithMatcher(keys))
	}
	var mx *metrics
	if cfg.metricsPort != "" {
		if mx, err = newMetrics(cfg.metricsPort); err != nil {
			return err
		}
		opts = append(opts, mx.m.Options()...)
	}
	v, err := apptoken.New(opts...)
	if err != nil {
		if mx != nil {
			_ = mx.ln.Close()
		}
		return fmt.Errorf("cannot start: %w (give the app the token daprd has in its APP_API_TOKEN, in %s or in a file named by %s)",
			err, apptoken.DefaultEnvVar, apptoken.DefaultFileEnvVar)
	}
	defer func() { _ = v.Close() }()
	if mx != nil {
		stopMetrics, err := mx.serve(log, v)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	if cfg.legacy {
		log.Warn("INSECURE: legacy-sidecar mode is on: OnTopicEvent, OnBulkTopicEvent, OnBindingEvent and OnJobEvent are accepted WITHOUT a token; " +
			"anyone who can reach the app port can inject messages, binding events and jobs. " +
			"Use it only with daprd older than v1.15.13 / v1.16.2, and turn it off after upgrading.")
	}

	lis, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", cfg.port))
	if err != nil {
		return err
	}
	a := &app{log: log}
	srv, hs := newServer(v, a)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	log.Info("orders app listening", "addr", lis.Addr().String(), "protocol", "grpc", "legacy_sidecar", cfg.legacy)
	if ready != nil {
		ready(lis.Addr())
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("stopping")
	hs.Shutdown() // NOT_SERVING to health checks from now on
	stopped := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(stopGrace):
		srv.Stop() // streams such as health Watch never end on their own
		<-stopped
	}
	if err := <-served; err != nil {
		return err
	}
	log.Info("stopped", "orders", a.orders.Load(), "events", a.events.Load(), "bindings", a.bindings.Load())
	return nil
}
