package e2e

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/apptoken-go/apptoken/e2e/internal/harness"
)

// methodStats is the gRPC example's own method: request google.protobuf.Empty,
// answer {int64 orders = 1; int64 events = 2}.
const methodStats = "/orders.v1.Orders/Stats"

// grpcAPI talks to the gRPC example app directly (around daprd).
type grpcAPI struct {
	conn     *grpc.ClientConn
	appToken string
}

func newGRPCAPI(addr, appToken string) (*grpcAPI, error) {
	conn, err := harness.DialGRPC(addr)
	if err != nil {
		return nil, err
	}
	return &grpcAPI{conn: conn, appToken: appToken}, nil
}

func (g *grpcAPI) close() { _ = g.conn.Close() }

func tokenMD(values ...string) metadata.MD {
	md := metadata.MD{}
	for _, v := range values {
		md.Append(harness.TokenHeader, v)
	}
	return md
}

func (g *grpcAPI) stats(ctx context.Context) (counts, error) {
	resp, err := harness.InvokeRaw(ctx, g.conn, methodStats, nil, tokenMD(g.appToken))
	if err != nil {
		return counts{}, fmt.Errorf("%s: %w", methodStats, err)
	}
	return decodeStats(resp)
}

func decodeStats(b []byte) (counts, error) {
	f, err := harness.Decode(b)
	if err != nil {
		return counts{}, fmt.Errorf("%s answer: %w", methodStats, err)
	}
	return counts{Orders: int(f.Varint(1)), Events: int(f.Varint(2)), Bindings: int(f.Varint(3))}, nil
}

// call makes one unary call and returns its status code's name, after
// checking that a rejection neither leaks a token nor differs from the
// library's generic answer.
func (g *grpcAPI) call(ctx context.Context, method string, req []byte, values []string) (string, error) {
	_, err := harness.InvokeRaw(ctx, g.conn, method, req, tokenMD(values...))
	st := status.Convert(err)
	for _, s := range append([]string{g.appToken}, values...) {
		if s != "" && strings.Contains(st.Message(), s) {
			return "", fmt.Errorf("%s: the error message contains a token", method)
		}
	}
	if st.Code() != codes.OK && st.Code() != codes.Unauthenticated {
		return "", fmt.Errorf("%s: unexpected error: %w", method, err)
	}
	return st.Code().String(), nil
}

func (g *grpcAPI) direct(ctx context.Context, values ...string) (string, error) {
	return g.call(ctx, harness.MethodOnInvoke, harness.InvokeRequest("orders", "application/json", []byte(`{"id":"direct"}`)), values)
}

func (g *grpcAPI) directEvent(ctx context.Context) (string, error) {
	return g.call(ctx, harness.MethodOnTopicEvent, harness.TopicEventRequest("direct-event", "pubsub", "orders", []byte(`{"id":"direct"}`)), nil)
}

func (g *grpcAPI) directSubscribe(ctx context.Context) (string, error) {
	return g.call(ctx, harness.MethodListTopics, nil, nil)
}

func (g *grpcAPI) directBinding(ctx context.Context) (string, error) {
	return g.call(ctx, harness.MethodOnBinding, harness.BindingEventRequest("cron", nil), nil)
}

// directBindingDiscovery calls ListInputBindings with no token, and checks
// that the answer names the binding "cron".
func (g *grpcAPI) directBindingDiscovery(ctx context.Context) (string, error) {
	resp, err := harness.InvokeRaw(ctx, g.conn, harness.MethodListBindings, nil, nil)
	if err != nil {
		return status.Code(err).String(), nil
	}
	names, err := harness.ListInputBindingsNames(resp)
	if err != nil {
		return "", err
	}
	if !slices.Equal(names, []string{"cron"}) {
		return "", fmt.Errorf("ListInputBindings answered %q, want [cron]", names)
	}
	return codes.OK.String(), nil
}

func (g *grpcAPI) rejections(log, method string) int { return countRejections(log, method) }

// countRejections counts the lines of an example app's log that report a
// rejected call ("... rejected ...") to exactly route: an HTTP path or a
// full gRPC method name, logged as a key=value attribute.
func countRejections(log, route string) int {
	re := regexp.MustCompile(`=` + regexp.QuoteMeta(route) + `(\s|$|")`)
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "rejected") && re.MatchString(line) {
			n++
		}
	}
	return n
}

// countRejectionsOf counts the lines of an example app's log that report a
// rejected call with this method (HTTP method; gRPC calls are logged as
// POST) to exactly route, and, unless decision is "", with that decision.
func countRejectionsOf(log, method, route, decision string) int {
	re := regexp.MustCompile(`rejected.* method=` + regexp.QuoteMeta(method) + ` path=` + regexp.QuoteMeta(route) + `(\s|$|")`)
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if re.MatchString(line) && (decision == "" || strings.Contains(line, " decision="+decision)) {
			n++
		}
	}
	return n
}

// proxyCall calls the app's own Stats method through a daprd's gRPC port,
// as daprd's gRPC proxying wants it: metadata dapr-app-id names the app, and
// dapr-api-token carries the Dapr API token when daprd requires one. It
// returns the status code's name.
func (p *pair) proxyCall(ctx context.Context, d *harness.Daprd, apiToken string) (string, error) {
	conn, err := harness.DialGRPC(d.GRPCAddr())
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close() }()
	md := metadata.Pairs("dapr-app-id", harness.AppID)
	if apiToken != "" {
		md.Append(harness.TokenHeader, apiToken)
	}
	resp, err := harness.InvokeRaw(ctx, conn, methodStats, nil, md)
	if err == nil {
		if _, derr := decodeStats(resp); derr != nil {
			return "", derr
		}
	}
	return status.Code(err).String(), nil
}

// testProxy: a gRPC client calls the app's own service through daprd's gRPC
// port (proxying). daprd 1.14 forwards the caller's dapr-api-token (here
// the Dapr API token) and appends the app token: the app sees two values
// and must accept the call because one matches. daprd 1.15 and later send
// the app token alone. A spy server, standing in for the app behind a second
// daprd, records what daprd actually sends.
func (p *pair) testProxy(t *testing.T) {
	code, err := p.proxyCall(ctxT(t, 10*time.Second), p.d, p.apiToken)
	if err != nil {
		t.Fatalf("proxied call: %v", err)
	}
	values := spyProxiedTokens(t, p)
	shape := describeValues(values, p.apiToken, p.appToken)
	want := "[app token]"
	if v, _ := harness.ParseVersion(p.version); v[0] == 1 && v[1] <= 14 {
		want = "[Dapr API token, app token]"
	}
	p.record(t, callProxy, fmt.Sprintf("%s; app gets %s", code, shape), code == "OK" && shape == want,
		"OK; app gets "+want)

	// What the spy's daprd sent with the two lists it asks for at start:
	// no token, in every version, which is why both are exempt by default.
	var got []string
	ok := true
	for _, m := range []string{harness.MethodListTopics, harness.MethodListBindings} {
		values, called := p.spied[m]
		name := m[strings.LastIndex(m, "/")+1:]
		switch {
		case !called:
			got = append(got, name+" not called")
			ok = false
		default:
			got = append(got, name+" "+describeValues(values, p.apiToken, p.appToken))
			ok = ok && len(values) == 0
		}
	}
	cell := "no token"
	if !ok {
		cell = strings.Join(got, "; ")
	}
	p.recordCell(t, callListsSent, cell, strings.Join(got, "; "), ok, "both called with no token")
}

// describeValues names each token value without revealing it.
func describeValues(values []string, apiToken, appToken string) string {
	var names []string
	for _, v := range values {
		switch v {
		case apiToken:
			names = append(names, "Dapr API token")
		case appToken:
			names = append(names, "app token")
		case "":
			names = append(names, "empty")
		default:
			names = append(names, "other")
		}
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// spyProxiedTokens starts a gRPC server that records the dapr-api-token
// values of every call, puts a daprd of the pair's version in front of it
// (same tokens as the pair's daprd), makes one proxied call, and returns the
// values the spy received with it.
func spyProxiedTokens(t *testing.T, p *pair) []string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string][]string{}
	srv := grpc.NewServer(
		grpc.ForceServerCodec(harness.RawCodec()),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			method, _ := grpc.MethodFromServerStream(stream)
			md, _ := metadata.FromIncomingContext(stream.Context())
			mu.Lock()
			seen[method] = md.Get(harness.TokenHeader)
			mu.Unlock()
			if method != methodStats {
				return status.Error(codes.Unimplemented, "spy: "+method)
			}
			var in []byte
			if err := stream.RecvMsg(&in); err != nil {
				return err
			}
			return stream.SendMsg([]byte{})
		}),
	)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	addr, ok := lis.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("listener address %v is not TCP", lis.Addr())
	}
	d, err := harness.StartDaprd(context.Background(), harness.DaprdConfig{
		Name: p.version + "/" + p.app + " daprd (in front of a spy)", Bin: p.bin, Root: p.root,
		AppPort: addr.Port, AppProtocol: harness.ProtoGRPC,
		AppToken: p.appToken, APIToken: p.apiToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAndReport(t, d.Proc) })
	code, err := p.proxyCall(ctxT(t, 10*time.Second), d, p.apiToken)
	if err != nil || code != "OK" {
		t.Fatalf("proxied call to the spy: %s %v", code, err)
	}
	// daprd asks for the subscriptions and the input bindings as it starts;
	// give it a moment if it has not yet.
	lists := []string{harness.MethodListTopics, harness.MethodListBindings}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := 0
		for _, m := range lists {
			if _, ok := seen[m]; ok {
				n++
			}
		}
		mu.Unlock()
		if n == len(lists) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	p.spied = map[string][]string{}
	for m, v := range seen {
		p.spied[m] = v
	}
	return seen[methodStats]
}
