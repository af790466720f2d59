package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"
)

// AppID is the app id every daprd of the suite runs with (the examples are
// "orders" services). Invocation of the own app id stays inside one daprd,
// so several daprd processes with this id never talk to each other.
const AppID = "orders"

// DaprdConfig describes a daprd to start in front of an app.
type DaprdConfig struct {
	Name        string // for logs, e.g. "v1.18.0/gin daprd"
	Bin         string // the daprd binary
	Root        string // repository root (for e2e/testdata/dapr)
	AppPort     int
	AppProtocol string // ProtoHTTP or ProtoGRPC
	// AppToken is the APP_API_TOKEN daprd sends to the app; empty leaves it unset.
	AppToken string
	// APIToken is the DAPR_API_TOKEN daprd requires from its callers; empty
	// leaves it unset.
	APIToken string
	// HealthCheck turns on daprd's app health check, probing every second
	// and calling the app unhealthy after HealthThreshold failed probes.
	HealthCheck     bool
	HealthThreshold int // default 3
	LogLevel        string
	// MoreResources names folders of e2e/testdata/dapr whose components
	// daprd loads besides those of resources/ (one more --resources-path
	// each).
	MoreResources []string
}

// Daprd is a running daprd.
type Daprd struct {
	*Proc
	HTTPPort, GRPCPort, InternalGRPCPort int
	Args                                 []string
	cfg                                  DaprdConfig
}

// HTTPBase is the base URL of daprd's HTTP API, e.g. http://127.0.0.1:3500.
func (d *Daprd) HTTPBase() string { return "http://127.0.0.1:" + strconv.Itoa(d.HTTPPort) }

// GRPCAddr is the host:port of daprd's gRPC API.
func (d *Daprd) GRPCAddr() string { return "127.0.0.1:" + strconv.Itoa(d.GRPCPort) }

// Config is what the daprd was started with.
func (d *Daprd) Config() DaprdConfig { return d.cfg }

// DaprdArgs returns the command line for daprd on the given ports. It runs
// on loopback only: the Dapr API, the internal gRPC API and the app channel
// on 127.0.0.1; metrics off; the kubernetes name resolver with a loopback
// template instead of mDNS (config.yaml); the in-memory pub/sub named
// "pubsub" and the cron input binding (resources/). Every flag here is
// accepted by every daprd version the suite runs (v1.14.4 to v1.18.0).
func DaprdArgs(cfg DaprdConfig, httpPort, grpcPort, internalPort int) []string {
	td := filepath.Join(cfg.Root, "e2e", "testdata", "dapr")
	logLevel := cfg.LogLevel
	if logLevel == "" {
		logLevel = "info"
	}
	args := []string{
		"--app-id", AppID,
		"--app-port", strconv.Itoa(cfg.AppPort),
		"--app-protocol", cfg.AppProtocol,
		"--app-channel-address", "127.0.0.1",
		"--dapr-http-port", strconv.Itoa(httpPort),
		"--dapr-grpc-port", strconv.Itoa(grpcPort),
		"--dapr-internal-grpc-port", strconv.Itoa(internalPort),
		"--dapr-internal-grpc-listen-address", "127.0.0.1",
		"--dapr-listen-addresses", "127.0.0.1",
		"--enable-metrics=false",
		"--config", filepath.Join(td, "config.yaml"),
		"--resources-path", filepath.Join(td, "resources"),
		"--log-level", logLevel,
	}
	for _, r := range cfg.MoreResources {
		args = append(args, "--resources-path", filepath.Join(td, r))
	}
	if cfg.HealthCheck {
		threshold := cfg.HealthThreshold
		if threshold <= 0 {
			threshold = 3
		}
		args = append(args,
			"--enable-app-health-check",
			"--app-health-probe-interval", "1",
			"--app-health-probe-timeout", "900",
			"--app-health-threshold", strconv.Itoa(threshold),
		)
		if cfg.AppProtocol == ProtoHTTP {
			// The default, spelled out; the flag is for HTTP apps only.
			args = append(args, "--app-health-check-path", "/healthz")
		}
	}
	return args
}

// StartDaprd starts daprd on three free loopback ports and waits until
// GET /v1.0/healthz answers 204, which daprd does once it has connected to
// the app and finished its start-up. With the health check on, see also
// WaitAppHealthy. If a port was taken in the meantime it
// retries with others.
func StartDaprd(ctx context.Context, cfg DaprdConfig) (*Daprd, error) {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		ports, err := FreePorts(3)
		if err != nil {
			return nil, err
		}
		d, err := startDaprdOnce(ctx, cfg, ports[0], ports[1], ports[2])
		if err == nil {
			return d, nil
		}
		last = err
		if !errors.Is(err, errBind) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: giving up after 5 port collisions: %w", cfg.Name, last)
}

func startDaprdOnce(ctx context.Context, cfg DaprdConfig, httpPort, grpcPort, internalPort int) (*Daprd, error) {
	args := DaprdArgs(cfg, httpPort, grpcPort, internalPort)
	// DAPR_HOST_IP keeps daprd from looking for a network interface.
	env := []string{"DAPR_HOST_IP=127.0.0.1"}
	if cfg.AppToken != "" {
		env = append(env, "APP_API_TOKEN="+cfg.AppToken)
	}
	if cfg.APIToken != "" {
		env = append(env, "DAPR_API_TOKEN="+cfg.APIToken)
	}
	p, err := StartProc(cfg.Name, cfg.Bin, args, childEnv(env...), cfg.Root)
	if err != nil {
		return nil, err
	}
	d := &Daprd{Proc: p, HTTPPort: httpPort, GRPCPort: grpcPort, InternalGRPCPort: internalPort, Args: args, cfg: cfg}
	if err := waitReady(ctx, p, 60*time.Second, d.healthz); err != nil {
		p.Stop(DefaultStopTimeout)
		return nil, err
	}
	return d, nil
}

// WaitAppHealthy waits until daprd, running with the health check, has
// logged that it found the app healthy: before its first successful probe
// daprd sends the app nothing (invocations fail with "app is not in a
// healthy state", no delivery is made).
func (d *Daprd) WaitAppHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for len(d.Log.Lines("App entered healthy status")) == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s has not found the app healthy after %v", d.Name, timeout)
		case <-d.Done():
			return fmt.Errorf("%s exited", d.Name)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

func (d *Daprd) healthz(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.HTTPBase()+"/v1.0/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("GET /v1.0/healthz: %s", resp.Status)
	}
	return nil
}
