package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apptoken-go/apptoken/e2e/internal/harness"
)

// daprdVersions are the pinned daprd versions under test and the variables
// that name their binaries.
var daprdVersions = []struct{ Version, Env string }{
	{"v1.14.4", "DAPRD_1_14"},
	{"v1.18.0", "DAPRD_1_18"},
}

// moreDaprdEnv names the variable that lists more daprd versions to run,
// as space-separated VERSION=BINARY pairs (`make compat` sets it).
const moreDaprdEnv = "DAPRD_MORE"

// sidecar is a daprd version under test and where its binary comes from.
type sidecar struct {
	Version string
	Env     string // the variable that names the binary
	Bin     string // "" when that variable is unset
}

// sidecars are the daprd versions of this run: the pinned ones, then those
// of DAPRD_MORE.
func sidecars() ([]sidecar, error) {
	var out []sidecar
	for _, v := range daprdVersions {
		out = append(out, sidecar{v.Version, v.Env, os.Getenv(v.Env)})
	}
	for _, f := range strings.Fields(os.Getenv(moreDaprdEnv)) {
		version, bin, ok := strings.Cut(f, "=")
		if _, valid := harness.ParseVersion(version); !ok || !valid || bin == "" {
			return nil, fmt.Errorf("%s: %q is not VERSION=BINARY (e.g. v1.16.0=/path/to/daprd)", moreDaprdEnv, f)
		}
		if slices.ContainsFunc(out, func(s sidecar) bool { return s.Version == version }) {
			return nil, fmt.Errorf("%s: %s is listed twice", moreDaprdEnv, version)
		}
		out = append(out, sidecar{version, moreDaprdEnv, bin})
	}
	return out, nil
}

// legacyGRPC reports whether daprd of this version calls OnTopicEvent,
// OnBulkTopicEvent*, OnBindingEvent and OnJobEvent* without the app token:
// v1.14.x, v1.15.0 to v1.15.12 and v1.16.0 to v1.16.1, as the core's
// WithInsecureLegacySidecarGRPC documents. The suite checks this claim
// against every version it runs.
func legacyGRPC(version string) bool {
	v, ok := harness.ParseVersion(version)
	if !ok || v[0] != 1 {
		return false
	}
	switch v[1] {
	case 14:
		return true
	case 15:
		return v[2] < 13
	case 16:
		return v[2] < 2
	}
	return v[1] < 14
}

// apps are the example apps under test: every HTTP example, then the gRPC
// one twice. "grpc-legacy" is the gRPC example with
// APPTOKEN_LEGACY_SIDECAR=1, the option for sidecars that send no token
// with pub/sub deliveries over gRPC.
var apps = append(slices.Clone(harness.HTTPApps), harness.GRPCApp, "grpc-legacy")

// The calls of the results table, in the order it lists them.
const (
	callInvoke          = "invoke via daprd (POST /v1.0/invoke/orders/method/orders)"
	callPublish         = "publish via daprd, delivery to the app"
	callHealth          = "daprd app health check (probe has no token)"
	callWrongInvoke     = "daprd with a wrong APP_API_TOKEN: invoke"
	callWrongSubscribe  = "daprd with a wrong APP_API_TOKEN: subscriptions"
	callWrongPublish    = "daprd with a wrong APP_API_TOKEN: publish, delivery"
	callWrongProxy      = "daprd with a wrong APP_API_TOKEN: gRPC proxy call"
	callDirectNone      = "around daprd: no token"
	callDirectWrong     = "around daprd: wrong token"
	callDirectAPIToken  = "around daprd: the Dapr API token"
	callDirectBearer    = "around daprd: Bearer <app token>"
	callDirectRight     = "around daprd: the app token (control)"
	callDirectEvent     = "around daprd: pub/sub delivery, no token"
	callDirectSubscribe = "around daprd: subscription list, no token"
	callProxy           = "gRPC proxy via daprd (dapr-app-id: orders)"

	callBindingDiscovery      = "input binding cron: daprd asks the app (OPTIONS /cron, ListInputBindings)"
	callBinding               = "input binding cron: delivery to the app, counted"
	callWrongBinding          = "daprd with a wrong APP_API_TOKEN: input binding delivery"
	callDirectBinding         = "around daprd: binding delivery, no token"
	callDirectBindingDiscover = "around daprd: binding discovery, no token"
	callListsSent             = "what daprd sends with ListTopicSubscriptions and ListInputBindings (a spy app)"
)

var callOrder = []string{
	callInvoke, callPublish, callBindingDiscovery, callBinding, callHealth, callProxy, callListsSent,
	callWrongInvoke, callWrongSubscribe, callWrongPublish, callWrongBinding, callWrongProxy,
	callDirectNone, callDirectWrong, callDirectAPIToken, callDirectBearer, callDirectRight,
	callDirectEvent, callDirectSubscribe, callDirectBinding, callDirectBindingDiscover,
}

// The app column of the compatibility table.
const (
	appHTTP   = "HTTP"
	appGRPC   = "gRPC"
	appLegacy = "gRPC, `WithInsecureLegacySidecarGRPC`"
)

// compatRows are the rows of the compatibility table (README.md), in order.
var compatRows = []harness.CompatRow{
	{Call: callInvoke, Group: "http", Label: "service invocation through daprd", App: appHTTP},
	{Call: callInvoke, Group: "grpc", Label: "service invocation through daprd", App: appGRPC},
	{Call: callInvoke, Group: "grpc+legacy", Label: "service invocation through daprd", App: appLegacy},
	{Call: callPublish, Group: "http", Label: "pub/sub delivery", App: appHTTP},
	{Call: callPublish, Group: "grpc", Label: "pub/sub delivery (`OnTopicEvent`)", App: appGRPC},
	{Call: callPublish, Group: "grpc+legacy", Label: "pub/sub delivery (`OnTopicEvent`)", App: appLegacy},
	{Call: callBindingDiscovery, Group: "http", Label: "input binding discovery (`OPTIONS /cron`)", App: appHTTP},
	{Call: callBindingDiscovery, Group: "grpc", Label: "input binding discovery (`ListInputBindings`)", App: appGRPC},
	{Call: callBinding, Group: "http", Label: "input binding delivery (`POST /cron`)", App: appHTTP},
	{Call: callBinding, Group: "grpc", Label: "input binding delivery (`OnBindingEvent`)", App: appGRPC},
	{Call: callBinding, Group: "grpc+legacy", Label: "input binding delivery (`OnBindingEvent`)", App: appLegacy},
	{Call: callHealth, Group: "http", Label: "daprd's app health probe (no token)", App: appHTTP},
	{Call: callHealth, Group: "grpc", Label: "daprd's app health probe (no token)", App: appGRPC},
	{Call: callProxy, Group: "grpc", Label: "gRPC call proxied by daprd: the app receives", App: appGRPC},
	{Call: callListsSent, Group: "grpc", Label: "`ListTopicSubscriptions`, `ListInputBindings`: daprd sends", App: appGRPC},
	{Call: callWrongInvoke, Group: "http", Label: "daprd with a wrong `APP_API_TOKEN`: invocation", App: appHTTP},
	{Call: callWrongInvoke, Group: "grpc", Label: "daprd with a wrong `APP_API_TOKEN`: invocation", App: appGRPC},
	{Call: callWrongPublish, Group: "http", Label: "daprd with a wrong `APP_API_TOKEN`: pub/sub delivery", App: appHTTP},
	{Call: callWrongPublish, Group: "grpc", Label: "daprd with a wrong `APP_API_TOKEN`: pub/sub delivery", App: appGRPC},
	{Call: callWrongPublish, Group: "grpc+legacy", Label: "daprd with a wrong `APP_API_TOKEN`: pub/sub delivery", App: appLegacy},
	{Call: callWrongBinding, Group: "http", Label: "daprd with a wrong `APP_API_TOKEN`: binding delivery", App: appHTTP},
	{Call: callWrongBinding, Group: "grpc", Label: "daprd with a wrong `APP_API_TOKEN`: binding delivery", App: appGRPC},
	{Call: callWrongBinding, Group: "grpc+legacy", Label: "daprd with a wrong `APP_API_TOKEN`: binding delivery", App: appLegacy},
	{Call: callDirectEvent, Group: "grpc+legacy", Label: "around daprd, no token: pub/sub delivery", App: appLegacy},
	{Call: callDirectBinding, Group: "grpc+legacy", Label: "around daprd, no token: binding delivery", App: appLegacy},
}

// compatTableEnv names the variable that, when set, names the file the
// compatibility table is written to at the end of the run (scripts/compat.sh
// sets it, and puts the table into README.md only when the run passed).
const compatTableEnv = "APPTOKEN_COMPAT_TABLE"

var (
	results harness.Recorder

	buildOnce sync.Once
	buildDir  string
	buildBins map[string]string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	harness.StopAll(harness.DefaultStopTimeout)
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	if results.Len() > 0 {
		table := results.Table(callOrder)
		fmt.Printf("\n=== RESULTS (what each call did, per daprd version and app protocol)\n\n%s\n", table)
		compat := results.CompatTable(compatRows)
		fmt.Printf("\n=== COMPATIBILITY TABLE\n\n%s\n", compat)
		if path := os.Getenv(compatTableEnv); path != "" {
			if err := os.WriteFile(path, []byte(compat), 0o600); err != nil {
				fmt.Fprintf(os.Stderr, "writing the compatibility table: %v\n", err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// examples builds every example app once for the whole run.
func examples(t *testing.T, root string) map[string]string {
	t.Helper()
	buildOnce.Do(func() {
		start := time.Now()
		buildDir, buildErr = os.MkdirTemp("", "apptoken-e2e-bin-")
		if buildErr != nil {
			return
		}
		buildBins, buildErr = harness.BuildExamples(root, buildDir, append(harness.HTTPApps, harness.GRPCApp)...)
		t.Logf("built the example apps in %v", time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatalf("building the example apps: %v", buildErr)
	}
	return buildBins
}

// daprdBinary returns the daprd binary for a version from its variable, or
// skips the test when the variable is unset. It fails when the binary is not
// the version it claims to be.
func daprdBinary(t *testing.T, version, env string) string {
	t.Helper()
	return checkDaprd(t, sidecar{version, env, os.Getenv(env)})
}

// checkDaprd returns the sidecar's binary, or skips the test when it has
// none. It fails when the binary is not the version it claims to be.
func checkDaprd(t *testing.T, s sidecar) string {
	t.Helper()
	version, env, bin := s.Version, s.Env, s.Bin
	if bin == "" {
		t.Skipf("%s is not set: it must name a daprd %s binary (scripts/e2e.sh sets it: `bash scripts/e2e.sh` or `make e2e`)", env, version)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s=%s: %s --version: %v\n%s", env, bin, filepath.Base(bin), err, out)
	}
	if got := strings.TrimSpace(string(out)); "v"+got != version {
		t.Fatalf("%s=%s is daprd %q, want %s", env, bin, got, version)
	}
	return bin
}

// TestSidecar runs every example app behind every daprd version. One app and
// one daprd are started per (version, app) and shared by that pair's
// subtests, which run in order; pairs run in parallel (go test -parallel,
// by default the number of CPUs).
func TestSidecar(t *testing.T) {
	root, err := harness.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	all, err := sidecars()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(all, func(s sidecar) bool { return s.Bin != "" }) {
		t.Skip("DAPRD_1_14 and DAPRD_1_18 are unset: the end-to-end suite needs real daprd binaries; run `make e2e` (or `bash scripts/e2e.sh`)")
	}
	for _, v := range all {
		for _, app := range apps {
			t.Run(v.Version+"/"+app, func(t *testing.T) {
				t.Parallel()
				var bin string
				if v.Env == moreDaprdEnv {
					bin = checkDaprd(t, v)
				} else {
					bin = daprdBinary(t, v.Version, v.Env)
				}
				bins := examples(t, root)
				p := startPair(t, root, v.Version, bin, app, bins)
				p.run(t)
			})
		}
	}
}

// pair is one example app with the daprd in front of it.
type pair struct {
	version string // daprd version
	app     string // one of apps
	proto   string // harness.ProtoHTTP or harness.ProtoGRPC
	legacy  bool   // the app runs with APPTOKEN_LEGACY_SIDECAR=1
	root    string
	bin     string // daprd binary

	appToken string // APP_API_TOKEN of the app and of the daprd in front of it
	apiToken string // DAPR_API_TOKEN of that daprd: what its callers send

	a     *harness.App
	d     *harness.Daprd
	api   appAPI
	start time.Time // when daprd was ready

	// spied holds the dapr-api-token values a daprd of this version sent
	// with each method to a spy app (gRPC pairs, from testProxy).
	spied map[string][]string
}

// appAPI is what differs between the HTTP apps and the gRPC app.
type appAPI interface {
	// stats reads the app's counters directly, with the app token.
	stats(ctx context.Context) (counts, error)
	// direct calls the app's protected order entry point around daprd,
	// presenting the given dapr-api-token values (none when empty).
	direct(ctx context.Context, values ...string) (string, error)
	// directEvent delivers a pub/sub message straight to the app with no token.
	directEvent(ctx context.Context) (string, error)
	// directSubscribe asks the app for its subscriptions with no token.
	directSubscribe(ctx context.Context) (string, error)
	// directBinding delivers an event of the binding "cron" straight to
	// the app with no token.
	directBinding(ctx context.Context) (string, error)
	// directBindingDiscovery asks the app, as daprd does before reading
	// the binding "cron", whether it takes it, with no token.
	directBindingDiscovery(ctx context.Context) (string, error)
	// rejections counts the app's log lines that report a rejected call to
	// the given route or gRPC method, in log (the app's output).
	rejections(log, route string) int
	close()
}

type counts struct{ Orders, Events, Bindings int }

func startPair(t *testing.T, root, version, bin, app string, bins map[string]string) *pair {
	t.Helper()
	p := &pair{
		version:  version,
		app:      app,
		proto:    harness.ProtoHTTP,
		root:     root,
		bin:      bin,
		appToken: harness.NewToken(),
		apiToken: harness.NewToken(),
	}
	exe := bins[app]
	var env []string
	if strings.HasPrefix(app, "grpc") {
		p.proto = harness.ProtoGRPC
		exe = bins[harness.GRPCApp]
		if app == "grpc-legacy" {
			p.legacy = true
			env = append(env, "APPTOKEN_LEGACY_SIDECAR=1")
		}
	}
	ctx := context.Background()
	a, err := harness.StartApp(ctx, harness.AppConfig{
		Name: version + "/" + app + " app", Bin: exe, Protocol: p.proto, Token: p.appToken, Env: env, Dir: root,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.a = a
	t.Cleanup(func() { stopAndReport(t, a.Proc) })

	d, err := harness.StartDaprd(ctx, harness.DaprdConfig{
		Name: version + "/" + app + " daprd", Bin: bin, Root: root,
		AppPort: a.Port, AppProtocol: p.proto,
		AppToken: p.appToken, APIToken: p.apiToken,
		HealthCheck: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.d = d
	t.Cleanup(func() { stopAndReport(t, d.Proc) })
	// Not fatal: if daprd never finds the app healthy, the subtests say what
	// that breaks (the health subtest names the cause).
	if err := d.WaitAppHealthy(ctx, 20*time.Second); err != nil {
		t.Errorf("%v", err)
	}
	p.start = time.Now()
	t.Logf("app on %s; daprd http %d grpc %d; daprd %s", a.Addr(), d.HTTPPort, d.GRPCPort, strings.Join(d.Args, " "))

	if p.proto == harness.ProtoHTTP {
		p.api = &httpAPI{addr: a.Addr(), appToken: p.appToken}
	} else {
		api, err := newGRPCAPI(a.Addr(), p.appToken)
		if err != nil {
			t.Fatal(err)
		}
		p.api = api
	}
	t.Cleanup(p.api.close)
	return p
}

// stopAndReport stops a process and, when the test failed, prints its output.
func stopAndReport(t *testing.T, proc *harness.Proc) {
	proc.Stop(harness.DefaultStopTimeout)
	if t.Failed() {
		t.Logf("---- output of %s (pid %d) ----\n%s---- end of %s ----", proc.Name, proc.Pid(), proc.Log.String(), proc.Name)
	}
}

func (p *pair) run(t *testing.T) {
	defer func() {
		// A panic in a subtest must still stop the processes: t.Cleanup
		// runs on panic too; this only adds the stack to the log.
		if r := recover(); r != nil {
			t.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	t.Run("invoke", p.testInvoke)
	t.Run("publish", p.testPublish)
	t.Run("binding", p.testBinding)
	if p.proto == harness.ProtoGRPC {
		t.Run("grpc-proxy", p.testProxy)
	}
	t.Run("wrong-app-token", p.testWrongAppToken)
	t.Run("wrong-app-token-binding", p.testWrongAppTokenBinding)
	t.Run("direct", p.testDirect)
	t.Run("health", p.testHealth) // last: by then daprd has probed many times
}

// record adds an observation to the results table and fails the test when
// it is not what was expected.
func (p *pair) record(t *testing.T, call, outcome string, ok bool, why string) {
	t.Helper()
	results.Add(p.version, p.app, call, outcome, ok)
	if !ok {
		t.Errorf("%s: got %s; want %s", call, outcome, why)
	}
}

// recordCell is record with the text the compatibility table shows for
// the observation (the same from run to run).
func (p *pair) recordCell(t *testing.T, call, cell, outcome string, ok bool, why string) {
	t.Helper()
	results.AddCell(p.version, p.app, call, cell, outcome, ok)
	if !ok {
		t.Errorf("%s: got %s; want %s", call, outcome, why)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func (p *pair) mustStats(t *testing.T) counts {
	t.Helper()
	c, err := p.api.stats(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("reading the app's counters: %v", err)
	}
	return c
}

// invokeVia calls the app's "orders" method through a daprd's HTTP API.
func invokeVia(ctx context.Context, d *harness.Daprd, apiToken, id string) (harness.Response, error) {
	body := fmt.Sprintf(`{"id":%q}`, id)
	return harness.Do(ctx, "POST", d.HTTPBase()+"/v1.0/invoke/"+harness.AppID+"/method/orders", []byte(body), harness.TokenHeaders(apiToken))
}

// testInvoke: service invocation through daprd reaches the app, which
// answers, and its order counter moves by one. The caller sends daprd the
// Dapr API token; daprd must replace it with the app token.
func (p *pair) testInvoke(t *testing.T) {
	before := p.mustStats(t)
	id := "invoke-" + p.version + "-" + p.app
	resp, err := invokeVia(ctxT(t, 15*time.Second), p.d, p.apiToken, id)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	after := p.mustStats(t)
	echoed := strings.Contains(string(resp.Body), id)
	delta := after.Orders - before.Orders
	outcome := fmt.Sprintf("%d, counted %d", resp.Status, delta)
	p.recordCell(t, callInvoke, "accepted", outcome, resp.Status == 200 && delta == 1 && echoed,
		"200 echoing the order, counted once")
	if !echoed {
		t.Errorf("invoke answer does not echo the order: %s", resp)
	}
	if strings.Contains(string(resp.Body), p.appToken) || strings.Contains(string(resp.Body), p.apiToken) {
		t.Errorf("invoke answer contains a token")
	}
}

// waitSubscribed waits until daprd lists the app's subscription to
// pubsub/orders in its metadata and has found the app healthy (daprd starts
// subscriptions only for a healthy app).
func waitSubscribed(t *testing.T, d *harness.Daprd, apiToken string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := subscribed(ctxT(t, 5*time.Second), d, apiToken)
		if err != nil {
			t.Fatalf("daprd metadata: %v", err)
		}
		healthy := !d.Config().HealthCheck || len(d.Log.Lines("App entered healthy status")) > 0
		if ok && healthy {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// subscribed reports whether daprd's metadata lists a subscription of the
// app to pubsub/orders.
func subscribed(ctx context.Context, d *harness.Daprd, apiToken string) (bool, error) {
	resp, err := harness.Do(ctx, "GET", d.HTTPBase()+"/v1.0/metadata", nil, harness.TokenHeaders(apiToken))
	if err != nil {
		return false, err
	}
	if resp.Status != 200 {
		return false, fmt.Errorf("GET /v1.0/metadata: %s", resp)
	}
	var md struct {
		Subscriptions []struct {
			PubsubName string `json:"pubsubname"`
			Topic      string `json:"topic"`
		} `json:"subscriptions"`
	}
	if err := json.Unmarshal(resp.Body, &md); err != nil {
		return false, fmt.Errorf("GET /v1.0/metadata: %w: %s", err, resp)
	}
	for _, s := range md.Subscriptions {
		if s.PubsubName == "pubsub" && s.Topic == "orders" {
			return true, nil
		}
	}
	return false, nil
}

func publishVia(ctx context.Context, d *harness.Daprd, apiToken, id string) (harness.Response, error) {
	body := fmt.Sprintf(`{"id":%q}`, id)
	return harness.Do(ctx, "POST", d.HTTPBase()+"/v1.0/publish/pubsub/orders", []byte(body), harness.TokenHeaders(apiToken))
}

// waitEvents polls the app's event counter until it reaches want or the
// timeout passes, and returns the last count.
func (p *pair) waitEvents(t *testing.T, want int, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c := p.mustStats(t)
		if c.Events >= want || time.Now().After(deadline) {
			return c.Events
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deliveryRejected reports whether the app must refuse daprd's pub/sub
// deliveries and binding events: a legacy daprd (see legacyGRPC) sends no
// token with OnTopicEvent and OnBindingEvent, and the gRPC app accepts that
// only with the legacy-sidecar option.
func (p *pair) deliveryRejected() bool {
	return p.proto == harness.ProtoGRPC && legacyGRPC(p.version) && !p.legacy
}

// testPublish: a message published through daprd is delivered to the app
// and counted once, which also shows daprd got the app's subscription list.
// With daprd 1.14 and the gRPC app without the legacy option, the delivery
// carries no token and is refused with Unauthenticated; the in-memory pub/sub
// of 1.14 retries it ten times, 100 ms apart (1.18's does not retry: without
// a resiliency policy it logs the error and drops the message), and the app
// never counts it.
func (p *pair) testPublish(t *testing.T) {
	if !waitSubscribed(t, p.d, p.apiToken, 20*time.Second) {
		p.record(t, callPublish, "no subscription registered", false, "daprd to list the app's subscription to pubsub/orders")
		return
	}
	before := p.mustStats(t)
	mark := p.a.Log.Len()
	dmark := p.d.Log.Len()
	// daprd lists the subscription (and logs the app healthy) a moment before
	// it subscribes to the in-memory broker, which drops a message published
	// with no subscriber. So a message that arrives nowhere within a few
	// seconds is published again, at most three times; the count must then
	// be exactly one, never more.
	attempts := 0
	arrived := func() bool {
		if p.deliveryRejected() {
			return p.api.rejections(p.a.Log.Since(mark), harness.MethodOnTopicEvent) > 0
		}
		return p.mustStats(t).Events > before.Events
	}
	for attempts < 3 {
		attempts++
		resp, err := publishVia(ctxT(t, 10*time.Second), p.d, p.apiToken, fmt.Sprintf("publish-%s-%s-%d", p.version, p.app, attempts))
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		if resp.Status != 204 {
			p.record(t, callPublish, fmt.Sprintf("publish answered %s", resp), false, "204 from daprd")
			return
		}
		deadline := time.Now().Add(3 * time.Second)
		for !arrived() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if arrived() {
			break
		}
	}
	if attempts > 1 {
		t.Logf("published %d times: the first message(s) went nowhere (daprd not yet subscribed)", attempts)
	}
	if !p.deliveryRejected() {
		// A moment more, to see that it is not delivered twice.
		time.Sleep(300 * time.Millisecond)
		delta := p.mustStats(t).Events - before.Events
		cell := "delivered (token sent)"
		if p.legacy {
			cell = "delivered" // with or without a token: the option exempts it
		}
		p.recordCell(t, callPublish, cell, fmt.Sprintf("delivered, counted %d", delta), delta == 1, "delivered and counted once")
		return
	}
	// The in-memory pub/sub of 1.14 retries 10 times, 100 ms apart; others
	// may try once: wait until no refusal has come for a second.
	rejected := waitSettled(10*time.Second, time.Second, func() int {
		return p.api.rejections(p.a.Log.Since(mark), harness.MethodOnTopicEvent)
	})
	delta := p.mustStats(t).Events - before.Events
	daprdErrs := len(harness.GrepLines(p.d.Log.Since(dmark), "Unauthenticated"))
	missing := countRejectionsOf(p.a.Log.Since(mark), "POST", harness.MethodOnTopicEvent, "missing")
	outcome := fmt.Sprintf("refused: no token sent; Unauthenticated ×%d (retries of the in-memory pub/sub), counted %d", rejected, delta)
	p.recordCell(t, callPublish, "**refused**: no token sent", outcome, delta == 0 && rejected >= 1 && missing == rejected && daprdErrs > 0,
		"every delivery sent without a token, refused with Unauthenticated, never counted")
	t.Logf("daprd logged %d errors naming Unauthenticated after the publish", daprdErrs)
}

// sentWhat says what daprd sent with the calls to a gRPC method that the
// app refused, from the decisions it logged: "no token sent" (missing),
// "wrong token sent" (mismatch), or both.
func sentWhat(log, method string) string {
	missing := countRejectionsOf(log, "POST", method, "missing")
	mismatch := countRejectionsOf(log, "POST", method, "mismatch")
	switch {
	case missing > 0 && mismatch == 0:
		return "no token sent"
	case mismatch > 0 && missing == 0:
		return "wrong token sent"
	}
	return fmt.Sprintf("no token sent %d×, a wrong one %d×", missing, mismatch)
}

// waitSettled polls count until it is above zero and has not changed for
// quiet, or until timeout, and returns its last value.
func waitSettled(timeout, quiet time.Duration, count func() int) int {
	deadline := time.Now().Add(timeout)
	last, since := count(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		n := count()
		if n != last {
			last, since = n, time.Now()
		} else if n > 0 && time.Since(since) >= quiet {
			break
		}
	}
	return last
}

// testBinding: daprd reads the input binding "cron" (every second) only if
// the app takes it: over HTTP it asks OPTIONS /cron, with the token; over
// gRPC it calls ListInputBindings, never with a token (exempt). Then it
// delivers each event: POST /cron with the token, or OnBindingEvent, which a
// legacy daprd sends without one (refused unless the app runs with the
// legacy option).
func (p *pair) testBinding(t *testing.T) {
	rejected := p.deliveryRejected()
	deliveryMethod, deliveryRoute := "POST", harness.MethodOnBinding
	discoveryMethod, discoveryRoute := "POST", harness.MethodListBindings
	if p.proto == harness.ProtoHTTP {
		deliveryRoute = "/cron"
		discoveryMethod, discoveryRoute = "OPTIONS", "/cron"
	}
	refusals := func() int { return countRejectionsOf(p.a.Log.String(), deliveryMethod, deliveryRoute, "") }
	// Two events, one second apart, once daprd has found the app healthy.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if (!rejected && p.mustStats(t).Bindings >= 2) || (rejected && refusals() >= 2) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := p.mustStats(t)
	refused := refusals()
	missing := countRejectionsOf(p.a.Log.String(), deliveryMethod, deliveryRoute, "missing")
	discoveryRefused := countRejectionsOf(p.a.Log.String(), discoveryMethod, discoveryRoute, "")
	notTaken := len(p.d.Log.Lines("app has not subscribed to binding cron"))

	// Discovery: daprd went on to deliver (or try to) only if the app said
	// it takes the binding.
	tried := c.Bindings > 0 || refused > 0
	discovery := fmt.Sprintf("refused %d×, daprd logged the binding not taken %d×, deliveries %v", discoveryRefused, notTaken, tried)
	cell := "**refused**"
	if discoveryRefused == 0 && notTaken == 0 && tried {
		if p.proto == harness.ProtoHTTP {
			cell, discovery = "accepted (token sent)", "OPTIONS /cron accepted, then deliveries"
		} else {
			cell, discovery = "answered (exempt)", "ListInputBindings answered, then deliveries"
		}
	}
	if !p.legacy {
		p.recordCell(t, callBindingDiscovery, cell, discovery, discoveryRefused == 0 && notTaken == 0 && tried,
			"the app takes the binding and daprd delivers its events")
	}

	if !rejected {
		cell := "delivered (token sent)"
		if p.legacy {
			cell = "delivered" // with or without a token: the option exempts it
		}
		p.recordCell(t, callBinding, cell, fmt.Sprintf("delivered, counted %d, refused %d", c.Bindings, refused),
			c.Bindings >= 2 && refused == 0, "every event delivered and counted, none refused")
		return
	}
	p.recordCell(t, callBinding, "**refused**: no token sent",
		fmt.Sprintf("refused: no token sent; Unauthenticated ×%d, counted %d", refused, c.Bindings),
		c.Bindings == 0 && refused >= 2 && missing == refused, "every event sent without a token and refused, none counted")
}

// testWrongAppTokenBinding: a fresh app behind a daprd with a wrong
// APP_API_TOKEN that also holds a second cron binding, "cron-input", which
// it delivers without asking the app first (direction: input). Over HTTP
// the app refuses the discovery of "cron" (so daprd never reads it) and
// every delivery of "cron-input"; over gRPC every OnBindingEvent, unless
// the app runs with the legacy option, which lets them all in.
func (p *pair) testWrongAppTokenBinding(t *testing.T) {
	bins := examples(t, p.root)
	exe := bins[p.app]
	var env []string
	if p.proto == harness.ProtoGRPC {
		exe = bins[harness.GRPCApp]
		if p.legacy {
			env = append(env, "APPTOKEN_LEGACY_SIDECAR=1")
		}
	}
	a, err := harness.StartApp(context.Background(), harness.AppConfig{
		Name: p.version + "/" + p.app + " app (binding, wrong token)", Bin: exe, Protocol: p.proto, Token: p.appToken, Env: env, Dir: p.root,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAndReport(t, a.Proc) })
	d, err := harness.StartDaprd(context.Background(), harness.DaprdConfig{
		Name: p.version + "/" + p.app + " daprd (binding, wrong APP_API_TOKEN)", Bin: p.bin, Root: p.root,
		AppPort: a.Port, AppProtocol: p.proto, AppToken: harness.NewToken(),
		MoreResources: []string{"undiscovered"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAndReport(t, d.Proc) })
	var api appAPI
	if p.proto == harness.ProtoHTTP {
		api = &httpAPI{addr: a.Addr(), appToken: p.appToken}
	} else {
		g, err := newGRPCAPI(a.Addr(), p.appToken)
		if err != nil {
			t.Fatal(err)
		}
		api = g
	}
	defer api.close()

	deliveryMethod, deliveryRoute := "POST", harness.MethodOnBinding
	if p.proto == harness.ProtoHTTP {
		deliveryRoute = "/cron"
	}
	seen := func() (counts, int) {
		c, err := api.stats(ctxT(t, 10*time.Second))
		if err != nil {
			t.Fatalf("reading the app's counters: %v", err)
		}
		return c, countRejectionsOf(a.Log.String(), deliveryMethod, deliveryRoute, "")
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, refused := seen(); (p.legacy && c.Bindings >= 2) || (!p.legacy && refused >= 2) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c, refused := seen()
	if p.legacy {
		p.recordCell(t, callWrongBinding, "**delivered** (exempt)",
			fmt.Sprintf("delivered, counted %d (legacy option: binding events exempt)", c.Bindings),
			c.Bindings >= 2 && refused == 0, "delivered (the legacy option exempts OnBindingEvent)")
		return
	}
	if p.proto == harness.ProtoGRPC {
		p.recordCell(t, callWrongBinding, "refused ("+sentWhat(a.Log.String(), deliveryRoute)+")", fmt.Sprintf("refused: Unauthenticated ×%d, counted %d", refused, c.Bindings),
			c.Bindings == 0 && refused >= 2, "every event refused, none counted")
		return
	}
	discoveryRefused := countRejectionsOf(a.Log.String(), "OPTIONS", "/cron", "")
	notTaken := len(d.Log.Lines("app has not subscribed to binding cron"))
	p.recordCell(t, callWrongBinding, "refused (discovery and delivery: 401)",
		fmt.Sprintf("OPTIONS /cron refused %d× (daprd: binding not taken %d×); POST /cron refused %d×, counted %d", discoveryRefused, notTaken, refused, c.Bindings),
		c.Bindings == 0 && refused >= 2 && discoveryRefused >= 1 && notTaken >= 1,
		"discovery refused, so \"cron\" is not read; every delivery of \"cron-input\" refused; none counted")
}

// testWrongAppToken: a daprd started with a wrong APP_API_TOKEN, in front of
// the same app, is refused: invocation through it fails with the app's 401 /
// Unauthenticated and the app counts nothing.
func (p *pair) testWrongAppToken(t *testing.T) {
	wrong := harness.NewToken()
	d, err := harness.StartDaprd(context.Background(), harness.DaprdConfig{
		Name: p.version + "/" + p.app + " daprd (wrong APP_API_TOKEN)", Bin: p.bin, Root: p.root,
		AppPort: p.a.Port, AppProtocol: p.proto, AppToken: wrong,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAndReport(t, d.Proc) })

	before := p.mustStats(t)
	mark := p.a.Log.Len()
	resp, err := invokeVia(ctxT(t, 15*time.Second), d, "", "wrong-"+p.version+"-"+p.app)
	if err != nil {
		t.Fatalf("invoke through the wrong-token daprd: %v", err)
	}
	after := p.mustStats(t)
	delta := after.Orders - before.Orders
	rejected := p.api.rejections(p.a.Log.Since(mark), orderRoute(p.proto))
	outcome := fmt.Sprintf("%d, counted %d", resp.Status, delta)
	if rejected == 0 {
		outcome += ", no rejection logged by the app"
	}
	p.recordCell(t, callWrongInvoke, map[string]string{harness.ProtoHTTP: "refused (401)", harness.ProtoGRPC: "refused (401 from `Unauthenticated`)"}[p.proto],
		outcome, resp.Status == 401 && delta == 0 && rejected >= 1,
		"401 passed back from the app, nothing counted")
	if strings.Contains(string(resp.Body), wrong) || strings.Contains(string(resp.Body), p.appToken) {
		t.Errorf("the answer contains a token: %s", resp)
	}

	// Subscriptions: an HTTP app refuses GET /dapr/subscribe, so this daprd
	// registers none. ListTopicSubscriptions carries no token in any daprd
	// version and is exempt in the gRPC app, so this daprd subscribes.
	ok, err := subscribed(ctxT(t, 5*time.Second), d, "")
	if err != nil {
		t.Fatalf("daprd metadata: %v", err)
	}
	if p.proto == harness.ProtoHTTP {
		refused := p.api.rejections(p.a.Log.String(), "/dapr/subscribe")
		p.record(t, callWrongSubscribe, fmt.Sprintf("%s (GET /dapr/subscribe refused %d×)", map[bool]string{true: "registered", false: "none"}[ok], refused),
			!ok && refused >= 1, "none: GET /dapr/subscribe refused")
	} else {
		if !ok {
			ok = waitSubscribed(t, d, "", 10*time.Second)
		}
		p.record(t, callWrongSubscribe, map[bool]string{true: "registered (ListTopicSubscriptions is exempt)", false: "none"}[ok],
			ok, "registered: ListTopicSubscriptions carries no token and is exempt")
	}

	// Publish through the wrong daprd. The HTTP app has no subscription there.
	// The gRPC app refuses the delivery because its token is wrong (1.18) or
	// absent (1.14), unless it runs with the legacy option: that option
	// exempts OnTopicEvent from the check altogether, so any daprd (of any
	// version, whatever token it holds) and anyone else who reaches the app
	// port can deliver. That is the risk the option documents.
	before = p.mustStats(t)
	mark = p.a.Log.Len()
	resp, err = publishVia(ctxT(t, 10*time.Second), d, "", "wrong-publish-"+p.version+"-"+p.app)
	if err != nil {
		t.Fatalf("publish through the wrong-token daprd: %v", err)
	}
	if resp.Status != 204 {
		t.Fatalf("publish through the wrong-token daprd: %s", resp)
	}
	expectDelivered := p.legacy
	var got int
	if expectDelivered {
		got = p.waitEvents(t, before.Events+1, 10*time.Second) - before.Events
	} else {
		// 1.14's in-memory pub/sub retries ten times, 100 ms apart; 1.18's
		// tries once. Wait for all of it.
		time.Sleep(1500 * time.Millisecond)
		got = p.mustStats(t).Events - before.Events
	}
	refused := p.api.rejections(p.a.Log.Since(mark), harness.MethodOnTopicEvent)
	var cell string
	switch {
	case got > 0 && p.legacy:
		cell, outcome = "**delivered** (exempt)", fmt.Sprintf("delivered, counted %d (legacy option: deliveries exempt)", got)
	case got > 0:
		cell, outcome = "delivered", fmt.Sprintf("delivered, counted %d", got)
	case p.proto == harness.ProtoGRPC:
		cell, outcome = "refused ("+sentWhat(p.a.Log.Since(mark), harness.MethodOnTopicEvent)+")", fmt.Sprintf("refused: Unauthenticated ×%d, counted 0", refused)
	default:
		cell, outcome = "not subscribed (`/dapr/subscribe` refused)", "not delivered (no subscription), counted 0"
	}
	want := (got > 0) == expectDelivered
	if p.proto == harness.ProtoGRPC && !expectDelivered {
		// The subscription exists, so daprd tries: the app must refuse.
		want = want && refused >= 1
	}
	p.recordCell(t, callWrongPublish, cell, outcome, want,
		map[bool]string{true: "delivered (legacy option: deliveries exempt)", false: "not delivered"}[expectDelivered])

	if p.proto == harness.ProtoGRPC {
		code, err := p.proxyCall(ctxT(t, 10*time.Second), d, "")
		if err != nil {
			t.Fatalf("proxied call through the wrong-token daprd: %v", err)
		}
		p.record(t, callWrongProxy, code, code == "Unauthenticated", "Unauthenticated")
	}
}

// testDirect: callers going around daprd, straight to the app's port.
func (p *pair) testDirect(t *testing.T) {
	before := p.mustStats(t)
	unauth := map[string]string{harness.ProtoHTTP: "401", harness.ProtoGRPC: "Unauthenticated"}[p.proto]
	okCode := map[string]string{harness.ProtoHTTP: "200", harness.ProtoGRPC: "OK"}[p.proto]
	cases := []struct {
		call   string
		values []string
	}{
		{callDirectNone, nil},
		{callDirectWrong, []string{harness.NewToken()}},
		{callDirectAPIToken, []string{p.apiToken}},
		{callDirectBearer, []string{"Bearer " + p.appToken}},
	}
	for _, c := range cases {
		got, err := p.api.direct(ctxT(t, 10*time.Second), c.values...)
		if err != nil {
			t.Fatalf("%s: %v", c.call, err)
		}
		p.record(t, c.call, got, got == unauth, unauth)
	}
	mid := p.mustStats(t)
	if mid.Orders != before.Orders {
		t.Errorf("rejected direct calls were counted: orders %d -> %d", before.Orders, mid.Orders)
	}
	got, err := p.api.direct(ctxT(t, 10*time.Second), p.appToken)
	if err != nil {
		t.Fatalf("%s: %v", callDirectRight, err)
	}
	after := p.mustStats(t)
	p.record(t, callDirectRight, fmt.Sprintf("%s, counted %d", got, after.Orders-mid.Orders),
		got == okCode && after.Orders-mid.Orders == 1, okCode+", counted once")

	// Pub/sub delivery straight to the app with no token: refused, never 404
	// (over HTTP daprd would drop a message on 404) and never counted. With
	// the legacy option the gRPC app accepts it: the documented price.
	ev, err := p.api.directEvent(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("%s: %v", callDirectEvent, err)
	}
	afterEv := p.mustStats(t)
	counted := afterEv.Events - after.Events
	want, wantCount := unauth, 0
	if p.legacy {
		want, wantCount = okCode, 1
	}
	note := ""
	if p.legacy {
		note = " (legacy option: deliveries exempt)"
	}
	p.recordCell(t, callDirectEvent, map[bool]string{true: "**accepted**", false: "refused"}[p.legacy],
		fmt.Sprintf("%s, counted %d%s", ev, counted, note), ev == want && counted == wantCount,
		fmt.Sprintf("%s, counted %d", want, wantCount))

	// A binding event straight to the app with no token: refused and never
	// counted; accepted by the gRPC app with the legacy option.
	beforeB := p.mustStats(t).Bindings
	bev, err := p.api.directBinding(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("%s: %v", callDirectBinding, err)
	}
	// daprd's cron binding keeps delivering meanwhile: the count shows this
	// call's effect only where the app refuses daprd's deliveries too.
	countedB := p.mustStats(t).Bindings - beforeB
	okB := bev == want && (!p.deliveryRejected() || countedB == 0)
	p.recordCell(t, callDirectBinding, map[bool]string{true: "**accepted**", false: "refused"}[p.legacy],
		fmt.Sprintf("%s%s", bev, note), okB, want)

	// Binding discovery with no token: over HTTP OPTIONS /cron is refused
	// (daprd sends the token with it); over gRPC ListInputBindings is exempt
	// (daprd never does).
	disc, err := p.api.directBindingDiscovery(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("%s: %v", callDirectBindingDiscover, err)
	}
	p.record(t, callDirectBindingDiscover, disc, disc == map[string]string{harness.ProtoHTTP: unauth, harness.ProtoGRPC: okCode}[p.proto],
		"refused over HTTP, exempt over gRPC")

	// The subscription list: protected over HTTP (daprd sends the token with
	// GET /dapr/subscribe); exempt over gRPC (daprd never sends one with
	// ListTopicSubscriptions).
	sub, err := p.api.directSubscribe(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("%s: %v", callDirectSubscribe, err)
	}
	wantSub := unauth
	if p.proto == harness.ProtoGRPC {
		wantSub = okCode
	}
	p.record(t, callDirectSubscribe, sub, sub == wantSub, wantSub)
}

// testHealth: daprd's app health check, which sends no token, keeps the app
// healthy. daprd probes every second and calls the app unhealthy after three
// failed probes; a refused probe fails every time, so daprd would never find
// the app healthy, invocation would fail with "app is not in a healthy
// state", and the app would log each refusal. Here daprd has been up for
// several probe intervals. A probe that merely timed out (a loaded machine)
// is no refusal: it is logged, not failed.
func (p *pair) testHealth(t *testing.T) {
	const window = 4 * time.Second
	if wait := window - time.Since(p.start); wait > 0 {
		time.Sleep(wait)
	}
	dlog := p.d.Log.String()
	healthy := len(harness.GrepLines(dlog, "App entered healthy status"))
	unhealthy := len(harness.GrepLines(dlog, "App entered un-healthy status"))
	var probeErrs, timeouts int
	for _, l := range harness.GrepLines(dlog, "App health probe could not complete") {
		if strings.Contains(l, "DeadlineExceeded") || strings.Contains(l, "deadline exceeded") {
			timeouts++
		} else {
			probeErrs++
		}
	}
	probe := "/healthz"
	if p.proto == harness.ProtoGRPC {
		probe = harness.MethodHealthCheck
	}
	refused := p.api.rejections(p.a.Log.String(), probe)
	if timeouts > 0 || unhealthy > 0 {
		t.Logf("daprd: %d probe(s) timed out, app un-healthy %d time(s), with no probe refused by the app: a loaded machine", timeouts, unhealthy)
	}
	ok := healthy > 0 && probeErrs == 0 && refused == 0
	if ok && unhealthy > 0 {
		// Back to healthy before invoking.
		waitHealthyAgain(t, p.d)
	}
	before := p.mustStats(t)
	resp, err := invokeVia(ctxT(t, 15*time.Second), p.d, p.apiToken, "health-"+p.version+"-"+p.app)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	delta := p.mustStats(t).Orders - before.Orders
	ok = ok && resp.Status == 200 && delta == 1
	outcome := "healthy over 4+ probes (1 s apart), none refused"
	if !ok {
		outcome = fmt.Sprintf("healthy logged %d×, probe errors %d× (timeouts %d×), probes refused by the app %d, then invoke %d counted %d",
			healthy, probeErrs, timeouts, refused, resp.Status, delta)
	}
	p.recordCell(t, callHealth, "healthy (exempt)", outcome, ok, "daprd finds the app healthy; the app refuses no probe")
}

// waitHealthyAgain waits until daprd's last health change is to healthy.
func waitHealthyAgain(t *testing.T, d *harness.Daprd) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		lines := harness.GrepLines(d.Log.String(), "App entered")
		if len(lines) > 0 && strings.Contains(lines[len(lines)-1], "App entered healthy status") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// orderRoute is the route (HTTP) or method (gRPC) that daprd's service
// invocation reaches.
func orderRoute(proto string) string {
	if proto == harness.ProtoGRPC {
		return harness.MethodOnInvoke
	}
	return "/orders"
}
