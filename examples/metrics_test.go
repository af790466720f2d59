package examples_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// jwtExp returns an unsigned JWT-shaped token whose exp claim is t: to
// daprd and to the app a token like any other, whose expiry the app reports.
func jwtExp(t time.Time) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString(fmt.Appendf(nil, `{"sub":"orders","exp":%d}`, t.Unix())) + "." +
		enc.EncodeToString([]byte("not-a-real-signature"))
}

// scrape gets http://addr/metrics and returns its samples, one line each
// ("name{labels} value").
func scrape(t *testing.T, addr string) []string {
	t.Helper()
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	var samples []string
	for _, l := range strings.Split(string(body), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			samples = append(samples, l)
		}
	}
	return samples
}

// value returns the value of the sample of the metric name whose labels
// include every one of labels (`key="value"`), or NaN when there is none.
func value(t *testing.T, samples []string, name string, labels ...string) float64 {
	t.Helper()
	for _, s := range samples {
		series, v, ok := strings.Cut(s, " ")
		if !ok || !strings.HasPrefix(series, name+"{") {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(series, l)
		}
		if all {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			return f
		}
	}
	return math.NaN()
}

// serveWithMetrics starts fw with the token tok and METRICS_PORT set, and
// returns it with the metrics address.
func serveWithMetrics(t *testing.T, fw, tok string) (*proc, string) {
	t.Helper()
	mport := strconv.Itoa(freePort(t))
	p := serve(t, fw, "APP_API_TOKEN="+tok, "METRICS_PORT="+mport)
	return p, "127.0.0.1:" + mport
}

// TestMetrics: with METRICS_PORT set, every service serves its verifier's
// metrics at /metrics on that port, and the counters match the requests
// sent; the app port still refuses /metrics without the token, and the
// metrics port serves nothing else.
func TestMetrics(t *testing.T) {
	expiry := time.Now().Add(10 * 24 * time.Hour)
	tok := jwtExp(expiry)
	forEach(t, func(t *testing.T, fw string) {
		p, maddr := serveWithMetrics(t, fw, tok)
		for range 3 {
			if r := p.call(t, "POST", "/orders", tok, order); r.status != http.StatusOK {
				t.Fatalf("POST /orders with the token: %d", r.status)
			}
		}
		for range 2 {
			p.call(t, "POST", "/orders", "", order)
		}
		p.call(t, "GET", "/stats", wrongToken, "")
		if r := p.call(t, "GET", "/metrics", "", ""); r.status != http.StatusUnauthorized {
			t.Errorf("GET /metrics on the app port without token: %d, want 401", r.status)
		}
		for _, path := range []string{"/orders", "/healthz", "/stats"} {
			resp, err := client.Get("http://" + maddr + path)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s on the metrics port: %d, want 404", path, resp.StatusCode)
			}
		}

		samples := scrape(t, maddr)
		for _, c := range []struct {
			decision, allowed string
			want              float64
		}{
			{"accepted", "true", 3},
			{"missing", "false", 3}, // two orders and /metrics on the app port
			{"mismatch", "false", 1},
		} {
			got := value(t, samples, "apptoken_decisions_total", `apptoken_decision="`+c.decision+`"`, `apptoken_allowed="`+c.allowed+`"`)
			if got != c.want {
				t.Errorf("apptoken_decisions_total{apptoken_decision=%q}: %v, want %v", c.decision, got, c.want)
			}
		}
		// The readiness polls of /healthz: at least one.
		if got := value(t, samples, "apptoken_decisions_total", `apptoken_decision="exempt"`); !(got >= 1) {
			t.Errorf("exempt decisions: %v, want at least 1", got)
		}
		if got := value(t, samples, "apptoken_decisions_total", `apptoken_decision="too_long"`); got != 0 {
			t.Errorf("too_long decisions: %v, want 0 (every decision is reported from the start)", got)
		}
		for _, result := range []string{"success", "failure"} {
			if got := value(t, samples, "apptoken_reloads_total", `apptoken_reload_result="`+result+`"`); got != 0 {
				t.Errorf("apptoken_reloads_total{apptoken_reload_result=%q}: %v, want 0", result, got)
			}
		}
		if got := value(t, samples, "apptoken_token_count"); got != 1 {
			t.Errorf("apptoken_token_count: %v, want 1", got)
		}
		left := value(t, samples, "apptoken_token_time_left_seconds")
		if want := time.Until(expiry).Seconds(); math.IsNaN(left) || left > want+1 || left < want-60 {
			t.Errorf("apptoken_token_time_left_seconds: %v, want about %.0f", left, want)
		}
		if t.Failed() || fw == "nethttp" {
			t.Logf("%s: the apptoken samples of /metrics:\n%s", fw, apptokenSamples(samples))
		}
		if code := p.stop(t); code != 0 {
			t.Errorf("exit code %d after SIGTERM, want 0", code)
		}
	})
}

func apptokenSamples(samples []string) string {
	var b strings.Builder
	for _, s := range samples {
		if strings.HasPrefix(s, "apptoken_") {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}

// TestRejectionFlood: 10,000 requests without the token give 10 log lines
// and one line counting the rest, while the metrics count every one.
func TestRejectionFlood(t *testing.T) {
	const flood, workers = 10000, 8
	p, maddr := serveWithMetrics(t, "nethttp", token)
	before := strings.Count(p.out.String(), "\n")
	keepAlive := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < flood; i += workers {
				resp, err := keepAlive.Post("http://"+p.addr+"/orders", "application/json", strings.NewReader(order))
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					errs <- fmt.Errorf("status %d, want 401", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := value(t, scrape(t, maddr), "apptoken_decisions_total", `apptoken_decision="missing"`); got != flood {
		t.Errorf("missing decisions: %v, want %d", got, flood)
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	out := p.out.String()
	lines := strings.Count(out, "\n") - before
	rejected := strings.Count(out, `msg="apptoken: request rejected"`)
	t.Logf("%d rejected requests: %d log lines from the first rejection to the exit, %d of them one per request", flood, lines, rejected)
	if rejected != 10 {
		t.Errorf("%d rejections logged one by one, want 10", rejected)
	}
	if !strings.Contains(out, fmt.Sprintf(`msg="apptoken: rejected requests not logged" not_logged=%d rejected=%d`, flood-10, flood)) {
		t.Errorf("no line counting the %d rejections not logged:\n%s", flood-10, out)
	}
	if lines > 20 {
		t.Errorf("%d log lines for a flood of %d:\n%s", lines, flood, out)
	}
}
