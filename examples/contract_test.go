package examples_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
)

// Test tokens; not secrets.
const (
	token      = "wQ7mZr2Xo9kLp4Vd8sNe1TbYc6Hj3FgAq0Ux5RaKi-M"
	nextToken  = "n3Bv8Yq1Lc5Tz0Wk7Xs2Md9Hp4Rf6Gj1Ea8Uo3Iy5Qt"
	wrongToken = "Zk4nT8Qw1Ys6Mc3Vb9Xe2Lp7Ha5Jd0Fo8Ug4Ri1Ek_N"
)

const (
	order         = `{"id":"o-1","items":[{"sku":"tea","qty":2}]}`
	cloudEvent    = `{"specversion":"1.0","type":"com.dapr.event.sent","source":"orders","id":"e-1","datacontenttype":"application/json","pubsubname":"pubsub","topic":"orders","data":{"id":"o-1"}}`
	subscriptions = `[{"pubsubname":"pubsub","topic":"orders","route":"/events/orders"}]`
)

// forEach runs f for every framework, in parallel.
func forEach(t *testing.T, f func(t *testing.T, fw string)) {
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			f(t, fw)
		})
	}
}

func TestNoTokenExits(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		want string // in the output
	}{
		{"APP_API_TOKEN unset", nil, "APP_API_TOKEN is not set"},
		{"APP_API_TOKEN empty", []string{"APP_API_TOKEN="}, "APP_API_TOKEN is empty"},
		{"APP_API_TOKEN blank", []string{"APP_API_TOKEN= \t "}, "APP_API_TOKEN is empty"},
		{"APP_API_TOKEN_FILE empty", []string{"APP_API_TOKEN=" + token, "APP_API_TOKEN_FILE="}, "APP_API_TOKEN_FILE is set but empty"},
	}
	forEach(t, func(t *testing.T, fw string) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := run(t, fw, childEnv(append([]string{"APP_PORT=" + "1"}, c.env...)...))
				if code := p.wait(t, 15*time.Second); code == 0 {
					t.Errorf("exit code 0, want non-zero")
				}
				if out := p.out.String(); !strings.Contains(out, c.want) {
					t.Errorf("output does not say %q:\n%s", c.want, out)
				}
			})
		}
	})
}

// TestContract drives every route of the contract with no token, a wrong
// token and the right one.
func TestContract(t *testing.T) {
	rejected := response{http.StatusUnauthorized, apptoken.RejectionContentType, apptoken.RejectionBody}
	type step struct {
		name               string
		method, path, body string
		token              string
		want               response // contentType is a prefix; body "" is not checked
	}
	var steps []step
	for _, p := range []struct {
		method, path, body string
		ok                 string
	}{
		{"POST", "/orders", order, order},
		{"GET", "/dapr/subscribe", "", subscriptions},
		{"POST", "/events/orders", cloudEvent, `{"status":"SUCCESS"}`},
		// daprd's input-binding calls: discovery, then a delivery (the
		// cron binding's has no body).
		{"OPTIONS", "/cron", "", `{}`},
		{"POST", "/cron", "", `{}`},
		{"GET", "/stats", "", ""},
	} {
		name := p.method + " " + p.path
		steps = append(steps,
			step{name + " without token", p.method, p.path, p.body, "", rejected},
			step{name + " with a wrong token", p.method, p.path, p.body, wrongToken, rejected},
			step{name + " with the token plus one byte", p.method, p.path, p.body, token + "x", rejected},
			step{name + " with the token", p.method, p.path, p.body, token, response{http.StatusOK, "application/json", p.ok}},
		)
	}
	steps = append(steps,
		step{"GET /healthz without token", "GET", "/healthz", "", "", response{http.StatusOK, "application/json", `{"status":"ok"}`}},
		step{"GET /healthz with a wrong token", "GET", "/healthz", "", wrongToken, response{http.StatusOK, "application/json", `{"status":"ok"}`}},
		step{"HEAD /healthz without token", "HEAD", "/healthz", "", "", response{http.StatusOK, "application/json", ""}},
		step{"POST /healthz without token", "POST", "/healthz", "", "", rejected},
		step{"GET /healthz/ without token", "GET", "/healthz/", "", "", rejected},
		step{"GET /Healthz without token", "GET", "/Healthz", "", "", rejected},
		step{"GET /%68ealthz without token", "GET", "/%68ealthz", "", "", rejected},
		step{"unrouted path without token", "GET", "/admin", "", "", rejected},
		step{"unrouted path with the token", "GET", "/admin", "", token, response{http.StatusNotFound, "", ""}},
		step{"unrouted method without token", "DELETE", "/orders", "", "", rejected},
		step{"POST /orders with the token, not JSON", "POST", "/orders", "not json", token, response{http.StatusBadRequest, "application/json", ""}},
	)

	forEach(t, func(t *testing.T, fw string) {
		p := serve(t, fw, "APP_API_TOKEN="+token)
		for _, s := range steps {
			got := p.call(t, s.method, s.path, s.token, s.body)
			if got.status != s.want.status ||
				!strings.HasPrefix(got.contentType, s.want.contentType) ||
				(s.want.body != "" && got.body != s.want.body) {
				t.Errorf("%s: got %d %q %q, want %d %q %q", s.name, got.status, got.contentType, got.body, s.want.status, s.want.contentType, s.want.body)
			}
			if strings.Contains(got.body, token) && s.path != "/orders" {
				t.Errorf("%s: the answer contains the token", s.name)
			}
		}

		// Answered by the server before any handler unless it is told not
		// to; it must get the token check like everything else.
		resp, _, err := conformance.Send(p.addr, "OPTIONS", "*", nil)
		if err != nil {
			t.Errorf("OPTIONS *: %v", err)
		} else if _ = resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized { // Send read and closed it: a no-op
			t.Errorf("OPTIONS *: %d, want 401", resp.StatusCode)
		}

		// A body announced with "Expect: 100-continue" is never asked for
		// without the token: the answer comes before it, and is a refusal.
		if line := expectContinue(t, p.addr); !strings.HasPrefix(line, "HTTP/1.1 401 ") && !strings.HasPrefix(line, "HTTP/1.1 417 ") {
			t.Errorf("POST /orders with Expect: 100-continue and no token: first line %q, want 401 (or fiber's 417)", line)
		}

		out := p.out.String()
		if !strings.Contains(out, "listening") || !strings.Contains(out, p.addr) {
			t.Errorf("no start-up line saying where it listens (%s)", p.addr)
		}
		// The first rejections are logged one by one; the rest of the
		// minute's are counted, and the count is logged at the latest when
		// the service stops.
		if !strings.Contains(out, `msg="apptoken: request rejected" method=POST path=/orders decision=missing`) ||
			!strings.Contains(out, `msg="apptoken: request rejected" method=POST path=/orders decision=mismatch`) {
			t.Errorf("rejections are not logged with method, path and decision")
		}
		if strings.Contains(out, "method=GET path=/healthz ") || strings.Contains(out, "method=HEAD path=/healthz ") {
			t.Errorf("an exempt request was logged as rejected")
		}
		if code := p.stop(t); code != 0 {
			t.Errorf("exit code %d after SIGTERM, want 0 (graceful shutdown)", code)
		}
		out = p.out.String()
		// More than 10 requests were rejected: 10 lines and a count a
		// minute (the test takes less than one, unless the machine crawls).
		lines := strings.Count(out, `msg="apptoken: request rejected"`)
		counts := strings.Count(out, `msg="apptoken: rejected requests not logged" not_logged=`)
		if counts == 0 || lines < 10 || lines > 10*(counts+1) {
			t.Errorf("%d rejections logged one by one and %d counts of the others, want 10 and 1 a minute", lines, counts)
		}
		for _, secret := range []string{token, wrongToken} {
			if strings.Contains(out, secret) {
				t.Errorf("the output contains a presented token")
			}
		}
		if !strings.Contains(out, "stopped") {
			t.Errorf("no line saying it stopped")
		}
	})
}

func stats(t *testing.T, p *proc) (orders, events int) {
	t.Helper()
	s := allStats(t, p)
	return s.orders, s.events
}

// counters is the whole answer to GET /stats.
type counters struct{ orders, events, bindings int }

func allStats(t *testing.T, p *proc) counters {
	t.Helper()
	r := p.call(t, "GET", "/stats", token, "")
	var s struct{ Orders, Events, Bindings *int }
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &s) != nil || s.Orders == nil || s.Events == nil || s.Bindings == nil {
		t.Fatalf("GET /stats: %d %q, want 200 {\"orders\":N,\"events\":M,\"bindings\":K}", r.status, r.body)
	}
	return counters{*s.Orders, *s.Events, *s.Bindings}
}

// TestCounters checks that accepted orders, deliveries and binding events
// are counted and rejected ones are not.
func TestCounters(t *testing.T) {
	forEach(t, func(t *testing.T, fw string) {
		p := serve(t, fw, "APP_API_TOKEN="+token)
		if o, e := stats(t, p); o != 0 || e != 0 {
			t.Fatalf("fresh service: orders %d, events %d; want 0 0", o, e)
		}
		if b := allStats(t, p).bindings; b != 0 {
			t.Fatalf("fresh service: bindings %d; want 0", b)
		}
		for range 3 {
			p.call(t, "POST", "/orders", token, order)
		}
		for range 2 {
			p.call(t, "POST", "/events/orders", token, cloudEvent)
		}
		p.call(t, "POST", "/orders", "", order)
		p.call(t, "POST", "/orders", wrongToken, order)
		p.call(t, "POST", "/orders", token, "not json")
		p.call(t, "POST", "/events/orders", "", cloudEvent)
		p.call(t, "POST", "/events/orders", wrongToken, cloudEvent)
		for range 4 {
			p.call(t, "POST", "/cron", token, "")
		}
		p.call(t, "OPTIONS", "/cron", token, "") // discovery: not a delivery
		p.call(t, "POST", "/cron", "", "")
		p.call(t, "POST", "/cron", wrongToken, "")
		if got, want := allStats(t, p), (counters{3, 2, 4}); got != want {
			t.Errorf("orders %d, events %d, bindings %d; want %d %d %d", got.orders, got.events, got.bindings, want.orders, want.events, want.bindings)
		}
	})
}

// TestTokenFileReload checks the default source's file mode: with
// APP_API_TOKEN_FILE set, the file is the source (APP_API_TOKEN is then
// ignored), and a token added to or removed from it takes effect without a
// restart, within the reload interval.
func TestTokenFileReload(t *testing.T) {
	const within = apptoken.DefaultReloadInterval + 5*time.Second
	forEach(t, func(t *testing.T, fw string) {
		file := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		p := serve(t, fw, "APP_API_TOKEN_FILE="+file, "APP_API_TOKEN="+wrongToken)
		status := func(tok string) int { return p.call(t, "GET", "/stats", tok, "").status }
		if got := status(token); got != http.StatusOK {
			t.Fatalf("the file's token: %d, want 200", got)
		}
		for _, tok := range []string{nextToken, wrongToken} {
			if got := status(tok); got != http.StatusUnauthorized {
				t.Fatalf("a token not in the file: %d, want 401", got)
			}
		}

		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString(nextToken + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, within, "the appended token to be accepted", func() bool { return status(nextToken) == http.StatusOK })
		if got := status(token); got != http.StatusOK {
			t.Errorf("the first token after the append: %d, want 200", got)
		}

		// Replace the file, the way a secret volume does it.
		tmp := file + ".new"
		if err := os.WriteFile(tmp, []byte(nextToken+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
		waitFor(t, within, "the removed token to be rejected", func() bool { return status(token) == http.StatusUnauthorized })
		if got := status(nextToken); got != http.StatusOK {
			t.Errorf("the remaining token: %d, want 200", got)
		}
	})
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%s after %v", what, time.Since(start).Round(10*time.Millisecond))
}

// expectContinue sends the head of a POST /orders with "Expect:
// 100-continue" and no token, and returns the first line of the answer,
// read before any body is sent.
func expectContinue(t *testing.T, addr string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "POST /orders HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 45\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the answer to an Expect: 100-continue request: %v", err)
	}
	return strings.TrimSpace(line)
}
