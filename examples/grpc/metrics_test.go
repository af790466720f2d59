package main

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRunMetrics: with METRICS_PORT set, the app serves its verifier's
// metrics at /metrics on that port, and they count the calls made.
func TestRunMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp, ok := ln.Addr().(*net.TCPAddr)
	_ = ln.Close()
	if !ok {
		t.Fatalf("listener address %v is a %T", ln.Addr(), ln.Addr())
	}
	mport := strconv.Itoa(tcp.Port)
	t.Setenv("APP_API_TOKEN", testToken)
	unsetenv(t, "APP_API_TOKEN_FILE")
	unsetenv(t, "APPTOKEN_LEGACY_SIDECAR")
	t.Setenv("APP_PORT", "0")
	t.Setenv("METRICS_PORT", mport)

	app := startRun(t)
	addr := app.addr
	conn := client(t, addr.String(), nil)
	for range 2 {
		if err := call(t, conn, mOnInvoke, []string{testToken}, &invokeRequest{}, &invokeResponse{}); err != nil {
			t.Fatalf("OnInvoke with the token: %v", err)
		}
	}
	if err := call(t, conn, mOnTopicEvent, nil, &topicEventRequest{Topic: "orders"}, &topicEventResponse{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("OnTopicEvent without token: %v", err)
	}
	if err := call(t, conn, mOnInvoke, []string{"wrong"}, &invokeRequest{}, &invokeResponse{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("OnInvoke with a wrong token: %v", err)
	}
	if err := call(t, conn, mHealthCheck, nil, &emptyMsg{}, &emptyMsg{}); err != nil {
		t.Errorf("HealthCheck: %v", err)
	}

	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://127.0.0.1:" + mport + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	for _, want := range []string{
		`apptoken_decisions_total{apptoken_allowed="true",apptoken_decision="accepted",`,
		`apptoken_decisions_total{apptoken_allowed="false",apptoken_decision="missing",`,
		`apptoken_decisions_total{apptoken_allowed="false",apptoken_decision="mismatch",`,
		`apptoken_decisions_total{apptoken_allowed="true",apptoken_decision="exempt",`,
		`apptoken_token_count{`,
	} {
		line := ""
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, want) {
				line = l
			}
		}
		wantValue := map[bool]string{true: " 2", false: " 1"}[strings.Contains(want, "accepted")]
		if !strings.HasSuffix(line, wantValue) {
			t.Errorf("no sample %s...%s in:\n%s", want, wantValue, body)
		}
	}

	app.stop(t)
	// Stopped with the app.
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+mport, time.Second); err == nil {
		t.Error("the metrics port still answers after run returned")
	}
}
