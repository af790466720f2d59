package apptokengrpc_test

import (
	"context"
	"crypto/subtle"
	"net"
	"testing"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

var (
	unaryInfo  = &grpc.UnaryServerInfo{FullMethod: mOnInvoke}
	streamInfo = &grpc.StreamServerInfo{FullMethod: mStream}
	exemptInfo = &grpc.UnaryServerInfo{FullMethod: mAppHealth}
)

func noopUnary(context.Context, any) (any, error) { return nil, nil }
func noopStream(any, grpc.ServerStream) error     { return nil }

// BenchmarkInterceptor covers what BenchmarkMiddleware does not: two
// token values, an exempt method, and the stream interceptor, each called
// directly with a no-op handler. Compare each with the bare case of its
// kind.
func BenchmarkInterceptor(b *testing.B) {
	v := conformance.NewVerifier(b, token)
	keep := conformance.NewVerifier(b, token, apptoken.WithKeepHeader())
	unary := apptokengrpc.UnaryServerInterceptor(v)
	for _, c := range []struct {
		name string
		ctx  context.Context
		info *grpc.UnaryServerInfo
	}{
		{"unary/two-values", cmpIncoming(conformance.DaprAPIToken, token), unaryInfo},
		{"unary/exempt", cmpIncoming(), exemptInfo},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = unary(c.ctx, nil, c.info, noopUnary)
			}
		})
	}
	var ss grpc.ServerStream = fakeStream{cmpIncoming(token)} // boxed once
	for _, c := range []struct {
		name string
		ic   grpc.StreamServerInterceptor // nil: the handler alone
	}{
		{"stream/bare", nil},
		{"stream/apptoken", apptokengrpc.StreamServerInterceptor(v)},
		{"stream/apptoken-keep", apptokengrpc.StreamServerInterceptor(keep)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			if c.ic == nil {
				for b.Loop() {
					_ = noopStream(nil, ss)
				}
				return
			}
			for b.Loop() {
				_ = c.ic(nil, ss, streamInfo, noopStream)
			}
		})
	}
}

// hidingAuthFunc is the check written by hand for go-grpc-middleware's
// auth interceptor with grpc's public API, hiding the token as the
// interceptors do: the key read with ValueFromIncomingContext, compared in
// constant time, then a copy of the metadata without it in a new context.
// It is the yardstick of TestAcceptPathAllocs.
func hidingAuthFunc(token string) auth.AuthFunc {
	want := []byte(token)
	return func(ctx context.Context) (context.Context, error) {
		vals := metadata.ValueFromIncomingContext(ctx, apptoken.HeaderName)
		if len(vals) == 0 || subtle.ConstantTimeCompare([]byte(vals[0]), want) != 1 {
			return nil, cmpDenied
		}
		md, _ := metadata.FromIncomingContext(ctx)
		delete(md, apptoken.HeaderName)
		return metadata.NewIncomingContext(ctx, md), nil
	}
}

// TestAcceptPathAllocs holds the interceptors to what grpc's public API
// costs: accepting a call allocates no more than go-grpc-middleware's auth
// interceptor with hidingAuthFunc (the copy ValueFromIncomingContext
// returns, the copy of the metadata without the token, the new context,
// and for a stream the wrapped stream); keeping the token, no more than
// that interceptor reading the key alone; an exempt call without a token
// and a rejection, at most the copy of the values.
func TestAcceptPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	v := conformance.NewVerifier(t, token)
	keep := conformance.NewVerifier(t, token, apptoken.WithKeepHeader())
	unary := func(ic grpc.UnaryServerInterceptor, ctx context.Context, info *grpc.UnaryServerInfo) func() {
		return func() { _, _ = ic(ctx, nil, info, noopUnary) }
	}
	stream := func(ic grpc.StreamServerInterceptor, ctx context.Context) func() {
		ss := grpc.ServerStream(fakeStream{ctx})
		return func() { _ = ic(nil, ss, streamInfo, noopStream) }
	}
	right := cmpIncoming(token)
	hiding := auth.UnaryServerInterceptor(hidingAuthFunc(token))
	reading := cmpKeyAuth(token)
	cases := []struct {
		name       string
		call, base func()
		max        float64 // when base is nil
	}{
		{name: "unary accept", call: unary(apptokengrpc.UnaryServerInterceptor(v), right, unaryInfo), base: unary(hiding, right, unaryInfo)},
		{name: "unary accept, two values", call: unary(apptokengrpc.UnaryServerInterceptor(v), cmpIncoming(conformance.DaprAPIToken, token), unaryInfo), base: unary(hiding, right, unaryInfo)},
		{name: "unary accept, keep the token", call: unary(apptokengrpc.UnaryServerInterceptor(keep), right, unaryInfo), base: unary(reading, right, unaryInfo)},
		{name: "stream accept", call: stream(apptokengrpc.StreamServerInterceptor(v), right), base: stream(auth.StreamServerInterceptor(hidingAuthFunc(token)), right)},
		{name: "unary exempt, no token", call: unary(apptokengrpc.UnaryServerInterceptor(v), cmpIncoming(), exemptInfo), max: 0},
		{name: "unary reject", call: unary(apptokengrpc.UnaryServerInterceptor(v), cmpIncoming(wrongToken), unaryInfo), max: 1},
	}
	for _, c := range cases {
		got, limit := testing.AllocsPerRun(200, c.call), c.max
		if c.base != nil {
			limit = testing.AllocsPerRun(200, c.base)
		}
		t.Logf("%s: %v allocations (limit %v)", c.name, got, limit)
		if got > limit {
			t.Errorf("%s: %v allocations, want at most %v", c.name, got, limit)
		}
	}
}

// BenchmarkEndToEnd measures what a user sees: a real grpc client calling
// a tiny unary method over one reused loopback connection, with the token
// in its outgoing metadata, to a grpc server without (bare) and with
// (apptoken) the interceptor.
func BenchmarkEndToEnd(b *testing.B) {
	// Both servers and connections are made, and warmed, before either is
	// timed: timed one after the other from cold, the first paid for the
	// start (as conformance.RunEndToEnd does for the HTTP adapters).
	type target struct {
		name string
		call func()
	}
	var targets []target
	for _, c := range []struct {
		name    string
		protect bool
	}{{"bare", false}, {"apptoken", true}} {
		var opts []grpc.ServerOption
		if c.protect {
			opts = append(opts, grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(conformance.NewVerifier(b, token))))
		}
		conn := startTCP(b, opts...)
		ctx := metadata.NewOutgoingContext(context.Background(), metadata.MD{headerName: {token}})
		in := []byte(`{"id":1}`)
		targets = append(targets, target{c.name, func() {
			var out []byte
			if err := conn.Invoke(ctx, mUnary, &in, &out, grpc.CallContentSubtype(rawSubtype)); err != nil || string(out) != "ok" {
				b.Fatalf("%s: call: %q, %v", c.name, out, err)
			}
		}})
	}
	for range 200 {
		for _, t := range targets {
			t.call()
		}
	}
	for _, t := range targets {
		b.Run(t.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				t.call()
			}
		})
	}
	b.Run("paired", func(b *testing.B) { conformance.PairedEndToEnd(b, targets[0].call, targets[1].call) })
}

// startTCP serves mUnary, answering "ok", on a loopback TCP listener with
// opts, and returns a client connected to it. Both stop with tb.
func startTCP(tb testing.TB, opts ...grpc.ServerOption) *grpc.ClientConn {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	reply := []byte("ok")
	g.RegisterService(&grpc.ServiceDesc{
		ServiceName: "apptoken.test.v1.Echo",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Unary",
			Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
				var in []byte
				if err := dec(&in); err != nil {
					return nil, err
				}
				h := func(context.Context, any) (any, error) { return &reply, nil }
				if ic == nil {
					return h(ctx, &in)
				}
				return ic(ctx, &in, &grpc.UnaryServerInfo{FullMethod: mUnary}, h)
			},
		}},
	}, struct{}{})
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = g.Serve(lis)
	}()
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = conn.Close()
		g.Stop()
		<-served
	})
	return conn
}
