package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// Test values, not secrets.
const (
	testToken   = "wQ7mZr2Xo9kLp4Vd8sNe1TbYc6Hj3FgAq0Ux5RaKi-M"
	callerToken = "dapr-api-token-of-the-caller-0123456789abcd"

	mOnInvoke     = "/" + appCallbackService + "/OnInvoke"
	mListTopics   = "/" + appCallbackService + "/ListTopicSubscriptions"
	mOnTopicEvent = "/" + appCallbackService + "/OnTopicEvent"
	mListBindings = "/" + appCallbackService + "/ListInputBindings"
	mOnBinding    = "/" + appCallbackService + "/OnBindingEvent"
	mHealthCheck  = "/" + appHealthService + "/HealthCheck"
	mStats        = "/" + ordersService + "/Stats"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// client dials addr (or, with lis, the in-memory listener) with the app's
// codec.
func client(t *testing.T, addr string, lis *bufconn.Listener) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(newCodec())),
	}
	target := "passthrough:///" + addr
	if lis != nil {
		target = "passthrough:///orders"
		opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// startInProcess serves the app as main wires it (newServer, the
// rejection log) on an in-memory listener.
func startInProcess(t *testing.T, opts ...apptoken.Option) (*grpc.ClientConn, *app, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	v, err := apptoken.New(append([]apptoken.Option{
		apptoken.WithTokens(testToken),
		apptoken.WithEventLog(nil),
		apptoken.WithRejectionLog(log),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{log: log}
	srv, _ := newServer(v, a)
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		_ = v.Close()
	})
	return client(t, "", lis), a, logs
}

func call(t *testing.T, conn *grpc.ClientConn, method string, tokens []string, req, resp message) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tok := range tokens {
		ctx = metadata.AppendToOutgoingContext(ctx, apptoken.HeaderName, tok)
	}
	return conn.Invoke(ctx, method, req, resp)
}

func stats(t *testing.T, conn *grpc.ClientConn) statsResponse {
	t.Helper()
	var s statsResponse
	if err := call(t, conn, mStats, []string{testToken}, &emptyMsg{}, &s); err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

func TestWithoutToken(t *testing.T) {
	conn, _, logs := startInProcess(t)

	// What daprd calls without a token, and the probes, answer.
	var subs listTopicSubscriptionsResponse
	if err := call(t, conn, mListTopics, nil, &emptyMsg{}, &subs); err != nil {
		t.Fatalf("ListTopicSubscriptions: %v", err)
	}
	if want := []topicSubscription{{"pubsub", "orders"}}; len(subs.Subscriptions) != 1 || subs.Subscriptions[0] != want[0] {
		t.Errorf("subscriptions %+v, want %+v", subs.Subscriptions, want)
	}
	var bindings listInputBindingsResponse
	if err := call(t, conn, mListBindings, nil, &emptyMsg{}, &bindings); err != nil || len(bindings.Bindings) != 1 || bindings.Bindings[0] != "cron" {
		t.Errorf("ListInputBindings: %v, %v", bindings, err)
	}
	if err := call(t, conn, mHealthCheck, nil, &emptyMsg{}, &emptyMsg{}); err != nil {
		t.Errorf("HealthCheck: %v", err)
	}
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("grpc.health.v1 Check: %v, %v", resp, err)
	}

	// Nothing else does, with no token, a wrong one, or the caller's own.
	for _, tokens := range [][]string{nil, {"wrong"}, {callerToken}, {"Bearer " + testToken}} {
		for _, c := range []struct {
			method    string
			req, resp message
		}{
			{mOnInvoke, &invokeRequest{Method: "neworder"}, &invokeResponse{}},
			{mOnTopicEvent, &topicEventRequest{Topic: "orders"}, &topicEventResponse{}},
			{mOnBinding, &bindingEventRequest{Name: "cron"}, &emptyMsg{}},
			{mStats, &emptyMsg{}, &statsResponse{}},
		} {
			err := call(t, conn, c.method, tokens, c.req, c.resp)
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("%s with %d token values: %v, want Unauthenticated", c.method, len(tokens), err)
			}
		}
	}
	if s := stats(t, conn); s != (statsResponse{}) {
		t.Errorf("rejected calls were counted: %+v", s)
	}
	out := logs.String()
	if !strings.Contains(out, `msg="apptoken: request rejected" method=POST path=`+mOnTopicEvent+" decision=missing") ||
		!strings.Contains(out, `msg="apptoken: request rejected" method=POST path=`+mOnInvoke+" decision=mismatch") {
		t.Errorf("rejections not logged:\n%s", out)
	}
	if strings.Contains(out, testToken) {
		t.Error("the log holds the token")
	}
}

func TestWithToken(t *testing.T) {
	conn, a, _ := startInProcess(t)
	req := &invokeRequest{
		Method:      "neworder",
		Data:        &anyMsg{TypeURL: "type.googleapis.com/google.protobuf.BytesValue", Value: []byte(`{"id":42}`)},
		ContentType: "application/json",
		HTTPVerb:    3,
		hasHTTP:     true,
	}
	var inv invokeResponse
	if err := call(t, conn, mOnInvoke, []string{testToken}, req, &inv); err != nil {
		t.Fatalf("OnInvoke: %v", err)
	}
	if inv.Data == nil || string(inv.Data.Value) != `{"id":42}` || inv.Data.TypeURL != req.Data.TypeURL || inv.ContentType != "application/json" {
		t.Errorf("OnInvoke answered %+v (data %+v)", inv, inv.Data)
	}
	var ev topicEventResponse
	if err := call(t, conn, mOnTopicEvent, []string{testToken},
		&topicEventRequest{ID: "1", PubsubName: "pubsub", Topic: "orders", Data: []byte(`{}`)}, &ev); err != nil || ev.Status != topicSuccess {
		t.Fatalf("OnTopicEvent: %+v, %v", ev, err)
	}
	if err := call(t, conn, mOnBinding, []string{testToken}, &bindingEventRequest{Name: "cron"}, &emptyMsg{}); err != nil {
		t.Errorf("OnBindingEvent: %v", err)
	}
	// daprd 1.14 proxying: the caller's token, then the app's.
	var s statsResponse
	if err := call(t, conn, mStats, []string{callerToken, testToken}, &emptyMsg{}, &s); err != nil {
		t.Fatalf("Stats with two values: %v", err)
	}
	if s != (statsResponse{Orders: 1, Events: 1, Bindings: 1}) || a.orders.Load() != 1 || a.events.Load() != 1 || a.bindings.Load() != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestUnknownMethods: a method the app does not serve, of a service it
// does not have or of one it has, answers Unauthenticated without the
// token, as every protected method does, and Unimplemented with it.
func TestUnknownMethods(t *testing.T) {
	conn, _, logs := startInProcess(t)
	for _, m := range []string{"/orders.v1.Admin/Export", "/" + appCallbackService + "/OnSecret", "/" + ordersService + "/Delete"} {
		for _, tokens := range [][]string{nil, {"wrong"}, {callerToken}} {
			err := call(t, conn, m, tokens, &emptyMsg{}, &emptyMsg{})
			if st, _ := status.FromError(err); st.Code() != codes.Unauthenticated || strings.Contains(st.Message(), m) {
				t.Errorf("%s with %d token values: %v, want Unauthenticated, not naming the method", m, len(tokens), err)
			}
		}
		if err := call(t, conn, m, []string{testToken}, &emptyMsg{}, &emptyMsg{}); status.Code(err) != codes.Unimplemented {
			t.Errorf("%s with the token: %v, want Unimplemented", m, err)
		}
		if err := call(t, conn, m, []string{callerToken, testToken}, &emptyMsg{}, &emptyMsg{}); status.Code(err) != codes.Unimplemented {
			t.Errorf("%s with two values, the second right: %v, want Unimplemented", m, err)
		}
	}
	if out := logs.String(); !strings.Contains(out, "method=POST path=/orders.v1.Admin/Export decision=missing") {
		t.Errorf("the rejection of an unknown method is not logged:\n%s", out)
	}
}

// TestTopicEventAnswersSuccess decodes OnTopicEvent's answer into a fresh
// message: SUCCESS is status 0, which proto3 leaves off the wire.
func TestTopicEventAnswersSuccess(t *testing.T) {
	conn, _, _ := startInProcess(t)
	var raw rawMsg
	if err := call(t, conn, mOnTopicEvent, []string{testToken}, &topicEventRequest{Topic: "orders"}, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 0 {
		t.Errorf("answer %x, want the empty encoding of status SUCCESS", []byte(raw))
	}
}

// rawMsg keeps a message's encoding as it is.
type rawMsg []byte

func (m *rawMsg) appendTo(b []byte) []byte { return append(b, *m...) }
func (m *rawMsg) decode(b []byte) error    { *m = append((*m)[:0], b...); return nil }

func TestLegacySidecarOption(t *testing.T) {
	conn, _, _ := startInProcess(t, apptoken.WithInsecureLegacySidecarGRPC())
	if err := call(t, conn, mOnTopicEvent, nil, &topicEventRequest{Topic: "orders"}, &topicEventResponse{}); err != nil {
		t.Errorf("OnTopicEvent without token, legacy option: %v", err)
	}
	if err := call(t, conn, mOnBinding, nil, &bindingEventRequest{Name: "cron"}, &emptyMsg{}); err != nil {
		t.Errorf("OnBindingEvent without token, legacy option: %v", err)
	}
	for _, m := range []string{mOnInvoke, mStats} {
		if err := call(t, conn, m, nil, &emptyMsg{}, &emptyMsg{}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s without token, legacy option: %v", m, err)
		}
	}
}

// unsetenv unsets key for the test, restoring it afterwards.
func unsetenv(t *testing.T, key string) {
	t.Setenv(key, "")
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}

// TestRun runs the app as main does, on a loopback port, and stops it.
func TestRun(t *testing.T) {
	for _, legacy := range []string{"", "1"} {
		t.Run("APPTOKEN_LEGACY_SIDECAR="+legacy, func(t *testing.T) {
			t.Setenv("APP_API_TOKEN", testToken)
			unsetenv(t, "APP_API_TOKEN_FILE")
			t.Setenv("APP_PORT", "0")
			t.Setenv("APPTOKEN_LEGACY_SIDECAR", legacy)
			unsetenv(t, "METRICS_PORT")

			app := startRun(t)
			addr, logs := app.addr, app.logs
			if host, _, _ := net.SplitHostPort(addr.String()); host != "127.0.0.1" {
				t.Errorf("listening on %s, want loopback", addr)
			}
			conn := client(t, addr.String(), nil)

			err := call(t, conn, mOnTopicEvent, nil, &topicEventRequest{Topic: "orders"}, &topicEventResponse{})
			if legacy == "1" && err != nil {
				t.Errorf("OnTopicEvent without token in legacy mode: %v", err)
			}
			if legacy == "" && status.Code(err) != codes.Unauthenticated {
				t.Errorf("OnTopicEvent without token: %v", err)
			}
			if err := call(t, conn, mOnInvoke, []string{testToken}, &invokeRequest{}, &invokeResponse{}); err != nil {
				t.Errorf("OnInvoke with the token: %v", err)
			}
			if err := call(t, conn, mOnInvoke, nil, &invokeRequest{}, &invokeResponse{}); status.Code(err) != codes.Unauthenticated {
				t.Errorf("OnInvoke without token: %v", err)
			}
			if err := call(t, conn, "/orders.v1.Admin/Export", nil, &emptyMsg{}, &emptyMsg{}); status.Code(err) != codes.Unauthenticated {
				t.Errorf("an unknown method without token: %v", err)
			}

			app.stop(t)
			out := logs.String()
			if got := strings.Contains(out, "INSECURE: legacy-sidecar mode is on"); got != (legacy == "1") {
				t.Errorf("legacy warning logged: %v, want %v\n%s", got, legacy == "1", out)
			}
			if !strings.Contains(out, "msg=stopped orders=1") {
				t.Errorf("no graceful stop logged:\n%s", out)
			}
			if strings.Contains(out, testToken) {
				t.Error("the log holds the token")
			}
		})
	}
}

func TestRunFailsWithoutToken(t *testing.T) {
	unsetenv(t, "APP_API_TOKEN")
	unsetenv(t, "APP_API_TOKEN_FILE")
	t.Setenv("APP_PORT", "0")
	err := run(context.Background(), nil, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "APP_API_TOKEN is not set") {
		t.Fatalf("run without a token: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	unsetenv(t, "APP_PORT")
	unsetenv(t, "APPTOKEN_LEGACY_SIDECAR")
	unsetenv(t, "METRICS_PORT")
	if c, err := parseConfig(nil, io.Discard); err != nil || c != (config{port: "50051"}) {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	if c, err := parseConfig([]string{"-legacy-sidecar"}, io.Discard); err != nil || !c.legacy {
		t.Errorf("-legacy-sidecar: %+v, %v", c, err)
	}
	if _, err := parseConfig([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	if _, err := parseConfig([]string{"extra"}, io.Discard); err == nil {
		t.Error("an extra argument was accepted")
	}
	t.Setenv("APPTOKEN_LEGACY_SIDECAR", "yes")
	if _, err := parseConfig(nil, io.Discard); err == nil || !strings.Contains(err.Error(), "APPTOKEN_LEGACY_SIDECAR") {
		t.Errorf("APPTOKEN_LEGACY_SIDECAR=yes: %v", err)
	}
	t.Setenv("APPTOKEN_LEGACY_SIDECAR", "1")
	t.Setenv("APP_PORT", "3000")
	if c, err := parseConfig(nil, io.Discard); err != nil || c != (config{port: "3000", legacy: true}) {
		t.Errorf("from the environment: %+v, %v", c, err)
	}
	for _, p := range []string{"http", "-1", "65536", "1e3"} {
		t.Setenv("APP_PORT", p)
		if _, err := parseConfig(nil, io.Discard); err == nil || !strings.Contains(err.Error(), "APP_PORT") {
			t.Errorf("APP_PORT=%s: %v", p, err)
		}
	}
	t.Setenv("APP_PORT", "3000")
	for _, p := range []string{"http", "-1", "65536"} {
		t.Setenv("METRICS_PORT", p)
		if _, err := parseConfig(nil, io.Discard); err == nil || !strings.Contains(err.Error(), "METRICS_PORT") {
			t.Errorf("METRICS_PORT=%s: %v", p, err)
		}
	}
	t.Setenv("METRICS_PORT", "9464")
	if c, err := parseConfig(nil, io.Discard); err != nil || c.metricsPort != "9464" {
		t.Errorf("METRICS_PORT=9464: %+v, %v", c, err)
	}
}

// running is the app started as main starts it, by run, in the background.
type running struct {
	addr   net.Addr
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startRun runs the app with the environment the test set and waits until
// it listens.
func startRun(t *testing.T) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &running{logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	addrs := make(chan net.Addr, 1)
	go func() { r.done <- run(ctx, nil, r.logs, func(a net.Addr) { addrs <- a }) }()
	select {
	case r.addr = <-addrs:
	case err := <-r.done:
		t.Fatalf("run: %v\n%s", err, r.logs)
	}
	return r
}

// stop stops the app as a SIGTERM does and checks that run returns nil
// within its grace period.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(stopGrace + 5*time.Second):
		t.Fatal("run did not stop")
	}
}
