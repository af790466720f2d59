package apptokengrpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/test/bufconn"
)

const (
	token      = conformance.Token
	wrongToken = conformance.WrongToken
	headerName = apptoken.HeaderName

	// rawSubtype selects rawCodec: application/grpc+raw.
	rawSubtype = "raw"
)

// rawCodec carries messages as plain bytes, so that the test services need
// no generated code.
type rawCodec struct{}

func (rawCodec) Name() string { return rawSubtype }

func (rawCodec) Marshal(v any) ([]byte, error) {
	if p, ok := v.(*[]byte); ok {
		return *p, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*p = append((*p)[:0], data...)
	return nil
}

func init() { encoding.RegisterCodec(rawCodec{}) }

// Full method names served by the test server.
const (
	mOnInvoke      = "/dapr.proto.runtime.v1.AppCallback/OnInvoke"
	mListTopics    = "/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions"
	mListBindings  = "/dapr.proto.runtime.v1.AppCallback/ListInputBindings"
	mOnTopicEvent  = "/dapr.proto.runtime.v1.AppCallback/OnTopicEvent"
	mOnBinding     = "/dapr.proto.runtime.v1.AppCallback/OnBindingEvent"
	mOnBulk        = "/dapr.proto.runtime.v1.AppCallback/OnBulkTopicEvent"
	mOnJob         = "/dapr.proto.runtime.v1.AppCallback/OnJobEvent"
	mOnBulkAlpha   = "/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1"
	mOnJobAlpha    = "/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1"
	mAppHealth     = "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck"
	mUnary         = "/apptoken.test.v1.Echo/Unary"
	mStream        = "/apptoken.test.v1.Echo/Stream"
	mHealthCheck   = "/grpc.health.v1.Health/Check"
	mHealthWatch   = "/grpc.health.v1.Health/Watch"
	mHealthList    = "/grpc.health.v1.Health/List"
	mListTopics2   = "/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions2"
	mListTopicsLC  = "/dapr.proto.runtime.v1.AppCallback/listtopicsubscriptions"
	mAppCallbackLC = "/dapr.proto.runtime.v1.appcallback/ListTopicSubscriptions"
	mAppHealthX    = "/dapr.proto.runtime.v1.AppCallbackHealthCheckX/HealthCheck"
)

// daprMethods are the Dapr callbacks registered on the test server: every
// method of AppCallback, AppCallbackHealthCheck and AppCallbackAlpha in
// Dapr's appcallback.proto (v1.14.4 and v1.18.0), and near misses of the
// exempt ones.
var daprMethods = []string{
	mOnInvoke, mListTopics, mListBindings, mOnTopicEvent, mOnBinding, mOnBulk, mOnJob,
	mOnBulkAlpha, mOnJobAlpha, mAppHealth,
	mListTopics2, mListTopicsLC, mAppCallbackLC, mAppHealthX,
}

// seenReply is what every test handler answers: how many dapr-api-token
// values it sees through ValueFromIncomingContext and FromIncomingContext,
// and whether other metadata survived.
func seenReply(ctx context.Context) []byte {
	v := len(metadata.ValueFromIncomingContext(ctx, headerName))
	md, _ := metadata.FromIncomingContext(ctx)
	n := 0
	for k, vals := range md {
		if strings.EqualFold(k, headerName) {
			n += len(vals)
		}
	}
	return fmt.Appendf(nil, "seen=%d/%d other=%d", v, n, len(md["x-other"]))
}

func wantSeen(n, other int) string { return fmt.Sprintf("seen=%d/%d other=%d", n, n, other) }

// server is a real grpc.Server on an in-memory listener, with the
// interceptors under test in front of the test services.
type server struct {
	lis   *bufconn.Listener
	conn  *grpc.ClientConn
	calls atomic.Int32 // handler invocations

	mu        sync.Mutex
	decisions []decision
}

type decision struct {
	d            apptoken.Decision
	method, path string
}

// newVerifier returns a verifier accepting token whose decisions srv
// records, with opts added.
func newVerifier(t testing.TB, srv *server, opts ...apptoken.Option) *apptoken.Verifier {
	t.Helper()
	all := append([]apptoken.Option{
		apptoken.WithTokens(token),
		apptoken.WithEventLog(nil),
		apptoken.WithDecisionHook(func(d apptoken.Decision, method, path string) {
			srv.mu.Lock()
			srv.decisions = append(srv.decisions, decision{d, method, path})
			srv.mu.Unlock()
		}),
	}, opts...)
	v, err := apptoken.New(all...)
	if err != nil {
		t.Fatalf("apptoken.New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

type setup struct {
	verifierOpts []apptoken.Option
	opts         []apptokengrpc.Option
	// serverOpts replace the interceptors, when given: they get the
	// verifier to build their own.
	serverOpts func(v *apptoken.Verifier) []grpc.ServerOption
}

// start runs a server with the interceptors built from s.
func start(t testing.TB, s setup) *server {
	t.Helper()
	srv := &server{lis: bufconn.Listen(1 << 20)}
	v := newVerifier(t, srv, s.verifierOpts...)
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(v, s.opts...)),
		grpc.ChainStreamInterceptor(apptokengrpc.StreamServerInterceptor(v, s.opts...)),
	}
	if s.serverOpts != nil {
		opts = s.serverOpts(v)
	}
	g := grpc.NewServer(opts...)
	srv.register(g)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(g, hs)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = g.Serve(srv.lis)
	}()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return srv.lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	srv.conn = conn
	t.Cleanup(func() {
		_ = conn.Close()
		hs.Shutdown() // ends Watch streams
		g.Stop()
		<-served
	})
	return srv
}

// register adds the test services: every Dapr callback and the echo
// service, all answering seenReply. Streams answer one reply per message
// received.
func (srv *server) register(g *grpc.Server) {
	services := map[string]*grpc.ServiceDesc{}
	add := func(full string, stream bool) {
		name, method, _ := strings.Cut(strings.TrimPrefix(full, "/"), "/")
		sd := services[name]
		if sd == nil {
			sd = &grpc.ServiceDesc{ServiceName: name, HandlerType: (*any)(nil)}
			services[name] = sd
		}
		if stream {
			sd.Streams = append(sd.Streams, grpc.StreamDesc{
				StreamName: method, ServerStreams: true, ClientStreams: true,
				Handler: srv.streamHandler,
			})
			return
		}
		sd.Methods = append(sd.Methods, grpc.MethodDesc{MethodName: method, Handler: srv.unaryHandler(full)})
	}
	for _, m := range append(daprMethods, mUnary) {
		add(m, false)
	}
	add(mStream, true)
	for _, sd := range services {
		g.RegisterService(sd, struct{}{})
	}
}

func (srv *server) unaryHandler(full string) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(s any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		var in []byte
		if err := dec(&in); err != nil {
			return nil, err
		}
		h := func(ctx context.Context, _ any) (any, error) {
			srv.calls.Add(1)
			// The context handed on still leads to grpc's stream and peer.
			if err := grpc.SetHeader(ctx, metadata.Pairs("x-handled", "1")); err != nil {
				return nil, fmt.Errorf("SetHeader on the handler's context: %w", err)
			}
			if _, ok := peer.FromContext(ctx); !ok {
				return nil, errors.New("no peer in the handler's context")
			}
			out := seenReply(ctx)
			return &out, nil
		}
		if ic == nil {
			return h(ctx, &in)
		}
		return ic(ctx, &in, &grpc.UnaryServerInfo{Server: s, FullMethod: full}, h)
	}
}

func (srv *server) streamHandler(_ any, ss grpc.ServerStream) error {
	srv.calls.Add(1)
	for {
		var in []byte
		if err := ss.RecvMsg(&in); errors.Is(err, io.EOF) {
			return nil // the client is done
		} else if err != nil {
			return err
		}
		out := seenReply(ss.Context())
		if err := ss.SendMsg(&out); err != nil {
			return err
		}
	}
}

// takeDecisions returns the decisions recorded since the last call.
func (srv *server) takeDecisions() []decision {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	d := srv.decisions
	srv.decisions = nil
	return d
}

func ctxWith(t testing.TB, md metadata.MD) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	if md != nil {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	return ctx
}

// unary calls method with md and returns the reply.
func (srv *server) unary(t testing.TB, method string, md metadata.MD) (string, error) {
	t.Helper()
	in, out := []byte("ping"), []byte(nil)
	err := srv.conn.Invoke(ctxWith(t, md), method, &in, &out, grpc.CallContentSubtype(rawSubtype))
	return string(out), err
}

// stream opens a bidirectional stream to method with md, sends two
// messages and returns the replies joined by "|".
func (srv *server) stream(t testing.TB, method string, md metadata.MD) (string, error) {
	t.Helper()
	cs, err := srv.conn.NewStream(ctxWith(t, md), &grpc.StreamDesc{ServerStreams: true, ClientStreams: true},
		method, grpc.CallContentSubtype(rawSubtype))
	if err != nil {
		return "", err
	}
	var replies []string
	for range 2 {
		in := []byte("ping")
		if err := cs.SendMsg(&in); err != nil {
			break // the server ended the stream; RecvMsg tells why
		}
	}
	if err := cs.CloseSend(); err != nil {
		return "", err
	}
	for {
		var out []byte
		if err := cs.RecvMsg(&out); err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return strings.Join(replies, "|"), err
		}
		replies = append(replies, string(out))
	}
}
