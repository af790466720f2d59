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

// daprdVersions are the daprd versions under test and the variables that
// name their binaries.
var daprdVersions = []struct{ Version, Env string }{
	{"v1.14.4", "DAPRD_1_14"},
	{"v1.18.0", "DAPRD_1_18"},
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
)

var callOrder = []string{
	callInvoke, callPublish, callHealth, callProxy,
	callWrongInvoke, callWrongSubscribe, callWrongPublish, callWrongProxy,
	callDirectNone, callDirectWrong, callDirectAPIToken, callDirectBearer, callDirectRight,
	callDirectEvent, callDirectSubscribe,
}

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
	bin := os.Getenv(env)
	if bin == "" {
		t.Skipf("%s is not set: it must name a daprd %s binary (scripts/e2e.sh sets it: `bash scripts/e2e.sh` or `make e2e`)", env, version)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput() //nolint:gosec // the daprd binary named by DAPRD_1_14 / DAPRD_1_18, by design
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
	any := false
	for _, v := range daprdVersions {
		any = any || os.Getenv(v.Env) != ""
	}
	if !any {
		t.Skip("DAPRD_1_14 and DAPRD_1_18 are unset: the end-to-end suite needs real daprd binaries; run `make e2e` (or `bash scripts/e2e.sh`)")
	}
	for _, v := range daprdVersions {
		for _, app := range apps {
			t.Run(v.Version+"/"+app, func(t *testing.T) {
				t.Parallel()
				bin := daprdBinary(t, v.Version, v.Env)
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
	// rejections counts the app's log lines that report a rejected call to
	// the given route or gRPC method, in log (the app's output).
	rejections(log, route string) int
	close()
}

type counts struct{ Orders, Events int }

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
	if p.proto == harness.ProtoGRPC {
		t.Run("grpc-proxy", p.testProxy)
	}
	t.Run("wrong-app-token", p.testWrongAppToken)
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
	p.record(t, callInvoke, outcome, resp.Status == 200 && delta == 1 && echoed,
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
// deliveries: daprd before 1.15.13 sends no token with OnTopicEvent, and
// the gRPC app accepts that only with the legacy-sidecar option.
func (p *pair) deliveryRejected() bool {
	return p.proto == harness.ProtoGRPC && p.version == "v1.14.4" && !p.legacy
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
		p.record(t, callPublish, fmt.Sprintf("delivered, counted %d", delta), delta == 1, "delivered and counted once")
		return
	}
	// The in-memory pub/sub of 1.14 retries 10 times, 100 ms apart: wait for that.
	deadline := time.Now().Add(10 * time.Second)
	for p.api.rejections(p.a.Log.Since(mark), harness.MethodOnTopicEvent) < 10 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	rejected := p.api.rejections(p.a.Log.Since(mark), harness.MethodOnTopicEvent)
	delta := p.mustStats(t).Events - before.Events
	daprdErrs := len(harness.GrepLines(p.d.Log.Since(dmark), "Unauthenticated"))
	outcome := fmt.Sprintf("refused: no token sent; Unauthenticated ×%d (in-memory pub/sub retries), counted %d", rejected, delta)
	p.record(t, callPublish, outcome, delta == 0 && rejected >= 2 && daprdErrs > 0,
		"every delivery refused with Unauthenticated and retried, never counted")
	t.Logf("daprd logged %d errors naming Unauthenticated after the publish", daprdErrs)
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
	p.record(t, callWrongInvoke, outcome, resp.Status == 401 && delta == 0 && rejected >= 1,
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
	switch {
	case got > 0 && p.legacy:
		outcome = fmt.Sprintf("delivered, counted %d (legacy option: deliveries exempt)", got)
	case got > 0:
		outcome = fmt.Sprintf("delivered, counted %d", got)
	case p.proto == harness.ProtoGRPC:
		outcome = fmt.Sprintf("refused: Unauthenticated ×%d, counted 0", refused)
	default:
		outcome = "not delivered (no subscription), counted 0"
	}
	want := (got > 0) == expectDelivered
	if p.proto == harness.ProtoGRPC && !expectDelivered {
		// The subscription exists, so daprd tries: the app must refuse.
		want = want && refused >= 1
	}
	p.record(t, callWrongPublish, outcome, want,
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
	p.record(t, callDirectEvent, fmt.Sprintf("%s, counted %d%s", ev, counted, note), ev == want && counted == wantCount,
		fmt.Sprintf("%s, counted %d", want, wantCount))

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
	p.record(t, callHealth, outcome, ok, "daprd finds the app healthy; the app refuses no probe")
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
