// Command demo shows the library at work behind a real Dapr sidecar: it
// starts one example app (gin unless DEMO_APP names another HTTP example of
// harness.HTTPApps) and a daprd in front of it, both on free loopback ports
// and sharing a freshly generated token, makes calls through the sidecar
// (accepted) and around it (rejected), prints what happened as a table, and
// stops both processes.
// It exits 0 only if every call did what the table expects.
//
// It needs the daprd binary in DAPRD; `make demo` (scripts/demo.sh) builds
// or takes it from the cache and runs this command. Tokens are never
// printed: only their length and a hash prefix.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apptoken-go/apptoken/e2e/internal/harness"
)

func main() { os.Exit(run()) }

type row struct {
	call, want, got string
	ok              bool
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer harness.StopAll(5 * time.Second) // on every way out, signals included

	app := os.Getenv("DEMO_APP")
	if app == "" {
		app = "gin"
	}
	if !slices.Contains(harness.HTTPApps, app) {
		return fail("DEMO_APP=%q: choose one of %s", app, strings.Join(harness.HTTPApps, ", "))
	}
	daprd := os.Getenv("DAPRD")
	if daprd == "" {
		return fail("DAPRD must name a daprd binary; run `make demo`, which provides one")
	}
	version, err := daprdVersion(daprd)
	if err != nil {
		return fail("%v", err)
	}
	root, err := harness.FindRoot()
	if err != nil {
		return fail("%v", err)
	}
	tmp, err := os.MkdirTemp("", "apptoken-demo-")
	if err != nil {
		return fail("%v", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	progress("building the %s example and the apptoken command", app)
	bins, err := harness.BuildExamples(root, tmp, app)
	if err != nil {
		return fail("%v", err)
	}
	auditBin := filepath.Join(tmp, "apptoken")
	if err := harness.BuildCommand(root, auditBin); err != nil {
		return fail("%v", err)
	}

	appToken, apiToken := harness.NewToken(), harness.NewToken()
	progress("starting the %s example and daprd %s on free loopback ports", app, version)
	a, err := harness.StartApp(ctx, harness.AppConfig{
		Name: app + " app", Bin: bins[app], Protocol: harness.ProtoHTTP, Token: appToken, Dir: root,
	})
	if err != nil {
		return fail("%v", err)
	}
	d, err := harness.StartDaprd(ctx, harness.DaprdConfig{
		Name: "daprd", Bin: daprd, Root: root, AppPort: a.Port, AppProtocol: harness.ProtoHTTP,
		AppToken: appToken, APIToken: apiToken, HealthCheck: true,
	})
	if err != nil {
		return fail("%v\n---- %s output ----\n%s", err, a.Name, a.Log.String())
	}
	started := time.Now()

	fmt.Printf("\napptoken demo: the %s example app behind a real daprd %s, both on 127.0.0.1\n\n", app, version)
	fmt.Printf("  app token       %s  fresh random; daprd's APP_API_TOKEN and the app's\n", harness.Fingerprint(appToken))
	fmt.Printf("  Dapr API token  %s  fresh random; daprd's DAPR_API_TOKEN, what callers send daprd\n", harness.Fingerprint(apiToken))
	fmt.Printf("  app             %s on %s\n", app, a.Addr())
	fmt.Printf("  daprd           HTTP API on 127.0.0.1:%d, probing the app's /healthz every second\n\n", d.HTTPPort)

	through := throughSidecar(ctx, a, d, appToken, apiToken, started)
	around := aroundSidecar(ctx, a, apiToken, appToken)

	printTable([]section{
		{"THROUGH THE SIDECAR: caller -> daprd -> app, to be accepted", through},
		{"AROUND THE SIDECAR: caller -> app port directly, to be rejected", around},
	})
	audited := audit(ctx, auditBin, a, appToken)

	// Stop both now, and check that they are gone, before saying so.
	d.Stop(harness.DefaultStopTimeout)
	a.Stop(harness.DefaultStopTimeout)
	if !d.Exited() || !a.Exited() {
		return fail("a process did not stop")
	}

	if ctx.Err() != nil {
		fmt.Println("\ninterrupted; app and daprd stopped")
		return 130
	}
	bad := 0
	for _, r := range append(through, around...) {
		if !r.ok {
			bad++
		}
	}
	if !audited {
		fmt.Println("FAIL: apptoken audit found calls the app answers without a valid token, or did not run; app and daprd stopped")
		fmt.Printf("\n---- app output (tail) ----\n%s\n", lastLines(a.Log.String(), 30))
		return 1
	}
	if bad > 0 {
		fmt.Printf("FAIL: %d of %d calls did not do what was expected; app and daprd stopped\n", bad, len(through)+len(around))
		fmt.Printf("\n---- daprd output (tail) ----\n%s\n---- app output (tail) ----\n%s\n", lastLines(d.Log.String(), 30), lastLines(a.Log.String(), 30))
		return 1
	}
	fmt.Printf("all %d calls as expected, and the audit found no open call: daprd's calls get through, nobody else's do. app and daprd stopped.\n", len(through)+len(around))
	return 0
}

func throughSidecar(ctx context.Context, a *harness.App, d *harness.Daprd, appToken, apiToken string, started time.Time) []row {
	var rows []row
	base := d.HTTPBase()
	add := func(call, want string, got string, ok bool) { rows = append(rows, row{call, want, got, ok}) }

	// Service invocation: the caller authenticates to daprd with the Dapr API
	// token; daprd calls the app with the app token.
	resp, err := harness.Do(ctx, "POST", base+"/v1.0/invoke/orders/method/orders", []byte(`{"id":"demo-1"}`), harness.TokenHeaders(apiToken))
	add("invoke   POST /v1.0/invoke/orders/method/orders", "200", status(resp, err), err == nil && resp.Status == 200)

	// Pub/sub: wait for daprd to have the app's subscription and to find the
	// app healthy (it delivers only then), publish, and watch the counter.
	subscribedOK := waitFor(ctx, 15*time.Second, func() bool {
		return len(d.Log.Lines("App entered healthy status")) > 0 && subscribed(ctx, d, apiToken)
	})
	before, _ := stats(ctx, a, appToken)
	resp, err = harness.Do(ctx, "POST", base+"/v1.0/publish/pubsub/orders", []byte(`{"id":"demo-2"}`), harness.TokenHeaders(apiToken))
	add("publish  POST /v1.0/publish/pubsub/orders", "204", status(resp, err), err == nil && resp.Status == 204)
	var after counts
	delivered := subscribedOK && waitFor(ctx, 10*time.Second, func() bool {
		after, err = stats(ctx, a, appToken)
		return err == nil && after.Events == before.Events+1
	})
	got := fmt.Sprintf("events %d -> %d", before.Events, after.Events)
	if !subscribedOK {
		got = "no subscription"
	}
	add("delivery daprd -> POST /events/orders, counted", fmt.Sprintf("events %d -> %d", before.Events, before.Events+1), got, delivered)

	// Health: daprd probes /healthz every second without a token, and calls
	// the app unhealthy after two failed probes. Give it three.
	if wait := 3*time.Second - time.Since(started); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	healthy := len(d.Log.Lines("App entered healthy status")) > 0 && len(d.Log.Lines("App entered un-healthy status")) == 0
	got = "healthy"
	if !healthy {
		got = "unhealthy"
	}
	add("health   daprd probes GET /healthz, no token", "healthy", got, healthy)
	return rows
}

func aroundSidecar(ctx context.Context, a *harness.App, apiToken, appToken string) []row {
	url := "http://" + a.Addr() + "/orders"
	body := []byte(`{"id":"intruder"}`)
	cases := []struct {
		call string
		hdr  map[string][]string
	}{
		{"POST /orders  no token", nil},
		{"POST /orders  wrong token", harness.TokenHeaders(harness.NewToken())},
		{"POST /orders  the Dapr API token (the caller's own)", harness.TokenHeaders(apiToken)},
		{"POST /orders  Authorization: Bearer <app token>", map[string][]string{"Authorization": {"Bearer " + appToken}}},
	}
	var rows []row
	for _, c := range cases {
		resp, err := harness.Do(ctx, "POST", url, body, c.hdr)
		rows = append(rows, row{c.call, "401", status(resp, err), err == nil && resp.Status == 401})
	}
	return rows
}

// audit runs `apptoken audit` against the app's port, from outside, as
// an attacker who can reach it would, and prints its table indented. The
// app's token goes to the command in an environment variable, never on its
// command line, so that it can read the routes /dapr/subscribe lists. It
// reports whether the audit ran and found no open call.
func audit(ctx context.Context, bin string, a *harness.App, appToken string) bool {
	const tokenVar = "DEMO_APP_API_TOKEN"
	url := "http://" + a.Addr()
	fmt.Printf("  AUDIT: apptoken audit -token-env %s %s  (every Dapr callback, from outside, without a valid token)\n", tokenVar, url)
	cmd := exec.CommandContext(ctx, bin, "audit", "-token-env", tokenVar, url) //nolint:gosec // the apptoken command the demo has just built
	cmd.Env = append(os.Environ(), tokenVar+"="+appToken)
	out, err := cmd.CombinedOutput()
	for line := range strings.Lines(string(out)) {
		if line != "\n" {
			line = "    " + line
		}
		fmt.Print(line)
	}
	fmt.Println()
	if err != nil {
		fmt.Printf("    apptoken audit: %v\n\n", err)
		return false
	}
	return true
}

// printTable prints sections of rows with aligned columns.
func printTable(sections []section) {
	w := len("call")
	for _, s := range sections {
		for _, r := range s.rows {
			w = max(w, len(r.call))
		}
	}
	for _, s := range sections {
		fmt.Printf("  %s\n", s.title)
		fmt.Printf("    %-*s  %-15s %s\n", w, "call", "expected", "got")
		for _, r := range s.rows {
			mark := "ok"
			if !r.ok {
				mark = "FAIL"
			}
			fmt.Printf("    %-*s  %-15s %-15s %s\n", w, r.call, r.want, r.got, mark)
		}
		fmt.Println()
	}
}

type section struct {
	title string
	rows  []row
}

type counts struct{ Orders, Events int }

func stats(ctx context.Context, a *harness.App, appToken string) (counts, error) {
	resp, err := harness.Do(ctx, "GET", "http://"+a.Addr()+"/stats", nil, harness.TokenHeaders(appToken))
	if err != nil {
		return counts{}, err
	}
	var c counts
	if resp.Status != 200 {
		return c, fmt.Errorf("GET /stats: %s", resp)
	}
	return c, json.Unmarshal(resp.Body, &c)
}

func subscribed(ctx context.Context, d *harness.Daprd, apiToken string) bool {
	resp, err := harness.Do(ctx, "GET", d.HTTPBase()+"/v1.0/metadata", nil, harness.TokenHeaders(apiToken))
	if err != nil || resp.Status != 200 {
		return false
	}
	var md struct {
		Subscriptions []struct {
			PubsubName string `json:"pubsubname"`
			Topic      string `json:"topic"`
		} `json:"subscriptions"`
	}
	if json.Unmarshal(resp.Body, &md) != nil {
		return false
	}
	for _, s := range md.Subscriptions {
		if s.PubsubName == "pubsub" && s.Topic == "orders" {
			return true
		}
	}
	return false
}

func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

func status(resp harness.Response, err error) string {
	if err != nil {
		return "error"
	}
	return strconv.Itoa(resp.Status)
}

func daprdVersion(bin string) (string, error) {
	out, err := exec.Command(bin, "--version").Output() //nolint:gosec // runs the daprd binary the caller named in DAPRD, by design
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", bin, err)
	}
	return "v" + strings.TrimSpace(string(out)), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
	return 1
}
