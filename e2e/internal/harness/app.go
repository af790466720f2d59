package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Protocols an app speaks, as daprd's --app-protocol names them.
const (
	ProtoHTTP = "http"
	ProtoGRPC = "grpc"
)

// AppConfig describes an example app to start.
type AppConfig struct {
	Name     string // for logs, e.g. "v1.18.0/gin app"
	Bin      string // the built example
	Protocol string // ProtoHTTP or ProtoGRPC
	Token    string // APP_API_TOKEN for the app
	Env      []string
	Dir      string // working directory
}

// App is a running example app.
type App struct {
	*Proc
	Port int
	cfg  AppConfig
}

// Addr is the app's host:port.
func (a *App) Addr() string { return "127.0.0.1:" + strconv.Itoa(a.Port) }

// StartApp starts the app on a free loopback port and waits until it answers
// any answer to a health request (GET /healthz over HTTP, grpc.health.v1 Check over gRPC). If
// the port was taken in the meantime it retries with another.
func StartApp(ctx context.Context, cfg AppConfig) (*App, error) {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		ports, err := FreePorts(1)
		if err != nil {
			return nil, err
		}
		a, err := startAppOnce(ctx, cfg, ports[0])
		if err == nil {
			return a, nil
		}
		last = err
		if !errors.Is(err, errBind) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: giving up after 5 port collisions: %w", cfg.Name, last)
}

func startAppOnce(ctx context.Context, cfg AppConfig, port int) (*App, error) {
	// Every rejection logged, not at most 10 a minute: the suite counts
	// them per route (see examples/internal/orders.EveryRejectionVar).
	env := childEnv(append([]string{"APP_PORT=" + strconv.Itoa(port), "APP_API_TOKEN=" + cfg.Token, "ORDERS_LOG_EVERY_REJECTION=1"}, cfg.Env...)...)
	p, err := StartProc(cfg.Name, cfg.Bin, nil, env, cfg.Dir)
	if err != nil {
		return nil, err
	}
	a := &App{Proc: p, Port: port, cfg: cfg}
	ready := a.httpReady
	if cfg.Protocol == ProtoGRPC {
		ready = a.grpcReady
	}
	if err := waitReady(ctx, p, 30*time.Second, ready); err != nil {
		p.Stop(DefaultStopTimeout)
		return nil, err
	}
	return a, nil
}

func (a *App) httpReady(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr()+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	// Any answer means the app is serving; whether /healthz is let through
	// without a token is for the tests to check.
	_ = resp.Body.Close()
	return nil
}

func (a *App) grpcReady(ctx context.Context) error {
	conn, err := grpc.NewClient(a.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	// Any answer from the app's gRPC server means it is serving; whether the
	// health service answers without a token is for the tests to check.
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if status.Code(err) == codes.Unavailable || status.Code(err) == codes.DeadlineExceeded {
		return err
	}
	return nil
}

var probeClient = &http.Client{Timeout: 2 * time.Second}

// waitReady polls ready until it succeeds, the process exits, or timeout
// passes. A process that exits because it could not bind gives errBind.
func waitReady(ctx context.Context, p *Proc, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if p.Exited() {
			if bindFailure(p.Log.String()) {
				return fmt.Errorf("%s: %w", p.Name, errBind)
			}
			exit := p.ExitErr()
			if exit == nil {
				exit = errors.New("exit status 0")
			}
			return fmt.Errorf("%s exited before it was ready (%w); its output:\n%s", p.Name, exit, indent(tail(p.Log.String(), 40), "  | "))
		}
		if last = ready(ctx); last == nil {
			// A port taken by someone else can look ready: make sure our
			// process is still the one running.
			time.Sleep(20 * time.Millisecond)
			if !p.Exited() {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v: %w; its output:\n%s", p.Name, timeout, last, indent(tail(p.Log.String(), 40), "  | "))
		case <-p.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}
