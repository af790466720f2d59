package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The example apps, as examples/contract_test.go and the e2e suite know them.
var httpExamples = []string{"gin", "echo", "fiber", "chi", "echov5", "fiberv3", "nethttp"}

var (
	examplesOnce sync.Once
	examplesDir  string
	examplesErr  error
)

// buildExamples builds every example app once, into a folder removed at
// the end of the run, and returns it.
func buildExamples(t *testing.T) string {
	t.Helper()
	examplesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "apptoken-cmd-examples-")
		if err != nil {
			examplesErr = err
			return
		}
		examplesDir = dir
		root, _ := filepath.Abs(filepath.Join("..", ".."))
		args := []string{"build", "-o", dir + string(filepath.Separator)}
		for _, ex := range httpExamples {
			args = append(args, "./"+ex)
		}
		for _, b := range []struct {
			dir  string
			args []string
		}{
			{filepath.Join(root, "examples"), args},
			{filepath.Join(root, "examples", "grpc"), []string{"build", "-o", filepath.Join(dir, "grpc"), "."}},
		} {
			cmd := exec.Command("go", b.args...)
			cmd.Dir = b.dir
			if out, err := cmd.CombinedOutput(); err != nil {
				examplesErr = fmt.Errorf("building the examples in %s: %w\n%s", b.dir, err, out)
				return
			}
		}
	})
	if examplesErr != nil {
		t.Fatal(examplesErr)
	}
	return examplesDir
}

// Test tokens; not secrets.
const (
	appToken = "wQ7mZr2Xo9kLp4Vd8sNe1TbYc6Hj3FgAq0Ux5RaKi-M"
)

// startExample runs the example app name with the token on a free
// loopback port and returns its address once it answers.
func startExample(t *testing.T, dir, name string) string {
	t.Helper()
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		cmd := exec.Command(filepath.Join(dir, name))
		cmd.Env = append(filteredEnv(), "APP_API_TOKEN="+appToken, "APP_PORT="+strconv.Itoa(port))
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("output of %s:\n%s", name, out.String())
			}
		})
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-done:
				if strings.Contains(out.String(), "address already in use") {
					goto retry
				}
				t.Fatalf("%s exited:\n%s", name, out.String())
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				_ = c.Close()
				return addr
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s does not listen on %s", name, addr)
	retry:
	}
	t.Fatalf("%s: no free port after 5 attempts", name)
	return ""
}

func filteredEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "APP_API_TOKEN", "APP_API_TOKEN_FILE", "APP_PORT", "METRICS_PORT", "APPTOKEN_LEGACY_SIDECAR":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("listener address %v is a %T", ln.Addr(), ln.Addr())
	}
	return addr.Port
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// auditJSON runs audit -json with args and decodes its report.
func auditJSON(t *testing.T, dir string, args ...string) (report, ran) {
	t.Helper()
	r := apptokenCmd(t, dir, "", append([]string{"audit", "-json", "-timeout", "3s"}, args...)...)
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("audit -json %q: exit %d, not JSON: %v\nstdout:\n%s\nstderr:\n%s", args, r.code, err, r.stdout, r.stderr)
	}
	return rep.report(), r
}

// jsonReport is the -json document as a consumer reads it.
type jsonReport struct {
	Target   string `json:"target"`
	Protocol string `json:"protocol"`
	Open     int    `json:"open"`
	Notes    []string
	Results  []struct {
		Call     string `json:"call"`
		Why      string `json:"why"`
		Verdict  string `json:"verdict"`
		Attempts []struct {
			Variant string `json:"variant"`
			Answer  string `json:"answer"`
		} `json:"attempts"`
	} `json:"results"`
}

func (j jsonReport) report() report {
	rep := report{Target: j.Target, Protocol: j.Protocol, Open: j.Open, Notes: j.Notes}
	for _, r := range j.Results {
		res := result{target: target{Call: r.Call, Why: r.Why}, Verdict: r.Verdict}
		for _, a := range r.Attempts {
			res.Attempts = append(res.Attempts, attempt{Variant: a.Variant, Answer: a.Answer})
		}
		rep.Results = append(rep.Results, res)
	}
	return rep
}

func verdicts(rep report) map[string]string {
	m := map[string]string{}
	for _, r := range rep.Results {
		m[r.Call] = r.Verdict
	}
	return m
}

func TestAuditExamples(t *testing.T) {
	dir := buildExamples(t)
	tokenDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(tokenDir, "app.token"), []byte(appToken), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ex := range httpExamples {
		t.Run(ex, func(t *testing.T) {
			t.Parallel()
			addr := startExample(t, dir, ex)
			rep, r := auditJSON(t, tokenDir, "-token-file", "app.token", "-binding", "checkout", "-path", "POST /orders", "http://"+addr)
			if r.code != 0 || rep.Open != 0 {
				t.Errorf("audit of the %s example: exit %d, %d open, want 0 and 0\n%s", ex, r.code, rep.Open, r.stdout)
			}
			v := verdicts(rep)
			for call, want := range map[string]string{
				"GET /healthz":                      verdictExempt,
				"HEAD /healthz":                     verdictExempt,
				"GET /dapr/subscribe":               verdictRejected,
				"POST /events/orders":               verdictRejected, // listed by /dapr/subscribe, read with the token
				"POST /orders":                      verdictRejected,
				"OPTIONS /checkout":                 verdictRejected,
				"GET /%68ealthz":                    verdictRejected,
				"GET /healthz/../dapr/subscribe":    verdictRejected,
				"GET /apptoken-audit/no-such-route": verdictRejected,
			} {
				if v[call] != want {
					t.Errorf("%s: %q, want %q", call, v[call], want)
				}
			}
			for _, res := range rep.Results {
				for _, a := range res.Attempts {
					if strings.HasPrefix(a.Answer, "no answer") {
						t.Errorf("%s (%s): %s", res.Call, a.Variant, a.Answer)
					}
				}
			}
		})
	}
	t.Run("grpc", func(t *testing.T) {
		t.Parallel()
		addr := startExample(t, dir, "grpc")
		rep, r := auditJSON(t, "", "-grpc", addr)
		if r.code != 0 || rep.Open != 0 {
			t.Errorf("audit of the gRPC example: exit %d, %d open\n%s", r.code, rep.Open, r.stdout)
		}
		v := verdicts(rep)
		for call, want := range map[string]string{
			"/dapr.proto.runtime.v1.AppCallback/OnInvoke":                    verdictRejected,
			"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent":                verdictRejected,
			"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1": verdictRejected,
			"/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions":      verdictExempt,
			"/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck":      verdictExempt,
			"/dapr.proto.runtime.v1.AppCallback/listtopicsubscriptions":      verdictRejected,
		} {
			if v[call] != want {
				t.Errorf("%s: %q, want %q", call, v[call], want)
			}
		}
	})
}

// TestAuditTable is the default output against the gin example: a table
// with no open call, exit 0.
func TestAuditTable(t *testing.T) {
	dir := buildExamples(t)
	addr := startExample(t, dir, "gin")
	r := apptokenCmd(t, "", "", "audit", "http://"+addr)
	if r.code != 0 || !strings.Contains(r.stdout, "no call was answered without a valid token") ||
		!strings.Contains(r.stdout, "GET /dapr/subscribe") || strings.Contains(r.stdout, verdictOpen) {
		t.Errorf("audit table: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("stderr is not a terminal, yet audit wrote to it: %q", r.stderr)
	}
}

// unprotected is an app that checks no token: every Dapr route answers.
func unprotected() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dapr/subscribe", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`[{"pubsubname":"pubsub","topic":"orders","route":"/events/orders"},` +
			`{"pubsubname":"pubsub","topic":"refunds","routes":{"rules":[{"match":"x","path":"/events/refunds"}],"default":"/events/other"}}]`))
	})
	mux.HandleFunc("GET /dapr/config", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"entities":["Cart"]}`))
	})
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) }
	mux.HandleFunc("POST /events/", ok)
	mux.HandleFunc("POST /orders", ok)
	mux.HandleFunc("/healthz", ok)
	return mux
}

func TestAuditUnprotectedHTTP(t *testing.T) {
	srv := httptest.NewServer(unprotected())
	defer srv.Close()
	rep, r := auditJSON(t, "", srv.URL)
	if r.code != 1 || rep.Open == 0 {
		t.Fatalf("audit of an unprotected app: exit %d, %d open; want 1 and some", r.code, rep.Open)
	}
	v := verdicts(rep)
	// Read without a token, since the app answers: the routes it lists and
	// the actor types it hosts are probed too.
	for _, call := range []string{"GET /dapr/subscribe", "GET /dapr/config", "POST /events/orders", "POST /events/refunds",
		"POST /events/other", "PUT /actors/Cart/1/method/audit", "GET /apptoken-audit/no-such-route", "GET /Healthz"} {
		if v[call] != verdictOpen {
			t.Errorf("%s: %q, want %q", call, v[call], verdictOpen)
		}
	}
	if v["GET /healthz"] != verdictExempt {
		t.Errorf("GET /healthz: %q, want exempt", v["GET /healthz"])
	}

	// The table names the open calls.
	tr := apptokenCmd(t, "", "", "audit", srv.URL)
	if tr.code != 1 || !strings.Contains(tr.stdout, "FAIL:") || !strings.Contains(tr.stdout, "POST /events/orders") ||
		!strings.Contains(tr.stdout, "200 x8: every variant") {
		t.Errorf("audit table of an unprotected app: exit %d\n%s", tr.code, tr.stdout)
	}
}

// checks wraps h with a check of the token that the test chooses.
func checks(h http.Handler, allowed func(r *http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestAuditHalfProtectedHTTP(t *testing.T) {
	for _, c := range []struct {
		name    string
		allowed func(r *http.Request) bool
		open    []string // calls that must be found open
		variant string   // a variant that must be among those let through
	}{
		{
			"presence only",
			func(r *http.Request) bool { return r.Header.Get("dapr-api-token") != "" || r.URL.Path == "/healthz" },
			[]string{"GET /dapr/subscribe", "POST /orders"}, "wrong",
		},
		{
			"Authorization accepted",
			func(r *http.Request) bool {
				return r.Header.Get("dapr-api-token") == appToken || r.Header.Get("Authorization") != "" || r.URL.Path == "/healthz"
			},
			[]string{"GET /dapr/subscribe"}, "Authorization",
		},
		{
			"exempt by prefix",
			func(r *http.Request) bool {
				return r.Header.Get("dapr-api-token") == appToken || strings.HasPrefix(r.URL.Path, "/healthz")
			},
			[]string{"GET /healthz/", "GET /healthz/../dapr/subscribe", "POST /healthz"}, "no token",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(checks(unprotected(), c.allowed))
			defer srv.Close()
			rep, r := auditJSON(t, "", "-path", "POST /orders", srv.URL)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			for _, call := range c.open {
				i := slices.IndexFunc(rep.Results, func(res result) bool { return res.Call == call })
				if i < 0 || rep.Results[i].Verdict != verdictOpen {
					t.Errorf("%s not found open:\n%s", call, r.stdout)
					continue
				}
				if !slices.ContainsFunc(rep.Results[i].Attempts, func(a attempt) bool {
					return a.Variant == c.variant && a.Answer != "401"
				}) {
					t.Errorf("%s: the %q variant did not get through: %+v", call, c.variant, rep.Results[i].Attempts)
				}
			}
			if v := verdicts(rep); v["GET /apptoken-audit/no-such-route"] != verdictRejected && c.name == "exempt by prefix" {
				t.Errorf("a protected unrouted path: %q", v["GET /apptoken-audit/no-such-route"])
			}
		})
	}
}

// TestAuditToken: the token given is sent once, in GET /dapr/subscribe,
// and never anywhere else; a redirect is not followed.
func TestAuditToken(t *testing.T) {
	var mu sync.Mutex
	var withToken []string
	var elsewhere int
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		elsewhere++
		mu.Unlock()
	}))
	defer other.Close()
	app := checks(unprotected(), func(r *http.Request) bool {
		return r.Header.Get("dapr-api-token") == appToken || r.URL.Path == "/healthz"
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, values := range r.Header {
			for _, v := range values {
				if strings.Contains(v, appToken) {
					mu.Lock()
					withToken = append(withToken, r.Method+" "+r.RequestURI)
					mu.Unlock()
				}
			}
		}
		if r.URL.Path == "/dapr/config" || r.URL.Path == "/job/apptoken-audit" {
			http.Redirect(w, r, other.URL+"/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		app.ServeHTTP(w, r)
	}))
	defer srv.Close()

	cmd := exec.Command(bin, "audit", "-json", "-token-env", "AUDIT_TEST_TOKEN", srv.URL)
	cmd.Env = append(os.Environ(), "AUDIT_TEST_TOKEN="+appToken)
	out, _ := cmd.Output()
	var rep jsonReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if strings.Contains(string(out), appToken) {
		t.Error("the report holds the token")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(withToken) != 1 || withToken[0] != "GET /dapr/subscribe" {
		t.Errorf("the token was sent with %q; want GET /dapr/subscribe once", withToken)
	}
	if elsewhere != 0 {
		t.Errorf("%d requests followed a redirect to another server", elsewhere)
	}
	v := verdicts(rep.report())
	if v["POST /events/orders"] != verdictRejected || v["GET /dapr/config"] != verdictOpen {
		t.Errorf("listed route %q, redirecting route %q; want rejected (probed) and OPEN (a 307 is an answer)",
			v["POST /events/orders"], v["GET /dapr/config"])
	}
}

// grpcServer serves a gRPC app, with the services register adds, on a
// loopback port.
func grpcServer(t *testing.T, register func(*grpc.Server), opts ...grpc.ServerOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(append([]grpc.ServerOption{grpc.ForceServerCodecV2(rawCodec{})}, opts...)...)
	if register != nil {
		register(srv)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

func answerAll(_ any, stream grpc.ServerStream) error {
	var in []byte
	if err := stream.RecvMsg(&in); err != nil {
		return err
	}
	out := []byte{}
	return stream.SendMsg(&out)
}

func TestAuditUnprotectedGRPC(t *testing.T) {
	addr := grpcServer(t, nil, grpc.UnknownServiceHandler(answerAll))
	rep, r := auditJSON(t, "", "-grpc", addr, "-path", "/orders.v1.Orders/Create")
	if r.code != 1 || rep.Open == 0 {
		t.Fatalf("audit of an unprotected gRPC app: exit %d, %d open", r.code, rep.Open)
	}
	v := verdicts(rep)
	for _, call := range []string{"/dapr.proto.runtime.v1.AppCallback/OnInvoke", "/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1", "/orders.v1.Orders/Create", "/apptoken-audit.v1.Audit/NoSuchMethod"} {
		if v[call] != verdictOpen {
			t.Errorf("%s: %q, want OPEN", call, v[call])
		}
	}
	if v["/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck"] != verdictExempt {
		t.Errorf("HealthCheck: %q, want exempt", v["/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck"])
	}
	tr := apptokenCmd(t, "", "", "audit", "-grpc", addr)
	if tr.code != 1 || !strings.Contains(tr.stdout, "FAIL:") || !strings.Contains(tr.stdout, "AppCallback/OnInvoke") {
		t.Errorf("table: exit %d\n%s", tr.code, tr.stdout)
	}
}

// TestAuditHalfProtectedGRPC: an interceptor checks the token of the
// methods the server has, but a method it does not have answers
// Unimplemented before any check: found open.
func TestAuditHalfProtectedGRPC(t *testing.T) {
	check := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if v := metadata.ValueFromIncomingContext(ctx, "dapr-api-token"); len(v) != 1 || v[0] != appToken {
			return nil, status.Error(codes.Unauthenticated, "no")
		}
		return handler(ctx, req)
	}
	register := func(srv *grpc.Server) {
		srv.RegisterService(&grpc.ServiceDesc{
			ServiceName: "dapr.proto.runtime.v1.AppCallback",
			HandlerType: (*any)(nil),
			Methods: []grpc.MethodDesc{{MethodName: "OnInvoke", Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
				var in []byte
				if err := dec(&in); err != nil {
					return nil, err
				}
				h := func(context.Context, any) (any, error) { return &[]byte{}, nil }
				return ic(ctx, &in, &grpc.UnaryServerInfo{FullMethod: "/dapr.proto.runtime.v1.AppCallback/OnInvoke"}, h)
			}}},
		}, struct{}{})
	}
	addr := grpcServer(t, register, grpc.UnaryInterceptor(check))
	rep, r := auditJSON(t, "", "-grpc", addr)
	v := verdicts(rep)
	if r.code != 1 || v["/dapr.proto.runtime.v1.AppCallback/OnInvoke"] != verdictRejected ||
		v["/dapr.proto.runtime.v1.AppCallback/OnTopicEvent"] != verdictOpen {
		t.Errorf("exit %d, OnInvoke %q, OnTopicEvent %q; want 1, rejected, OPEN (Unimplemented)\n%s",
			r.code, v["/dapr.proto.runtime.v1.AppCallback/OnInvoke"], v["/dapr.proto.runtime.v1.AppCallback/OnTopicEvent"], r.stdout)
	}
}

func TestAuditRefuses(t *testing.T) {
	closed := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "give the app's URL"},
		{[]string{"ftp://x"}, 2, "want an http://"},
		{[]string{"http://127.0.0.1:3000/orders"}, 2, "root URL"},
		{[]string{"-grpc", "127.0.0.1:1", "http://x"}, 2, "not both"},
		{[]string{"-path", "orders", "http://127.0.0.1:1"}, 2, "starts with /"},
		{[]string{"-token-env", "AUDIT_TEST_UNSET_VARIABLE", "http://127.0.0.1:1"}, 1, "unset or empty"},
		{[]string{"-timeout", "1s", closed}, 1, "no answer to any call"},
	} {
		r := apptokenCmd(t, "", "", append([]string{"audit"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("audit %q: exit %d, %q; want %d, %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
}
