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
)

// Environment variables read besides the token's (APP_API_TOKEN_FILE,
// else APP_API_TOKEN, read by apptoken.New).
const (
	envPort   = "APP_PORT"
	envLegacy = "APPTOKEN_LEGACY_SIDECAR"

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
	port   string
	legacy bool
}

func parseConfig(args []string, out io.Writer) (config, error) {
	c := config{port: defaultPort}
	if p := os.Getenv(envPort); p != "" {
		c.port = p
	}
	if n, err := strconv.ParseUint(c.port, 10, 16); err != nil || n > 65535 {
		return c, fmt.Errorf("%s=%q is not a port number", envPort, c.port)
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
			"Listens on 127.0.0.1:$%s (default %s).\n\n", envPort, defaultPort)
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

	opts := []apptoken.Option{apptoken.WithDecisionHook(logRejections(log))}
	if cfg.legacy {
		opts = append(opts, apptoken.WithInsecureLegacySidecarGRPC())
	}
	v, err := apptoken.New(opts...)
	if err != nil {
		return fmt.Errorf("cannot start: %w (give the app the token daprd has in its APP_API_TOKEN, in %s or in a file named by %s)",
			err, apptoken.DefaultEnvVar, apptoken.DefaultFileEnvVar)
	}
	defer func() { _ = v.Close() }()
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
	log.Info("stopped", "orders", a.orders.Load(), "events", a.events.Load())
	return nil
}

// logRejections logs every call the verifier rejects, with the method and
// the reason; never the token, which the hook is never given.
func logRejections(log *slog.Logger) func(apptoken.Decision, string, string) {
	return func(d apptoken.Decision, _, fullMethod string) {
		if !d.Allowed() {
			log.Warn("call rejected", "method", fullMethod, "reason", d.String())
		}
	}
}
