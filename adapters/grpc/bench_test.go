package apptokengrpc_test

import (
	"context"
	"testing"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// incoming is the metadata of a call as daprd sends it, as grpc's server
// transport hands it to interceptors.
func incoming(tok ...string) context.Context {
	md := metadata.MD{
		":authority":   {"127.0.0.1:50051"},
		"content-type": {"application/grpc"},
		"user-agent":   {"grpc-go/1.85.0"},
		"traceparent":  {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	}
	if tok != nil {
		md[apptoken.HeaderName] = tok
	}
	return metadata.NewIncomingContext(context.Background(), md)
}

func benchVerifier(tb testing.TB, opts ...apptoken.Option) *apptoken.Verifier {
	v, err := apptoken.New(append([]apptoken.Option{apptoken.WithTokens(token), apptoken.WithEventHook(nil)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = v.Close() })
	return v
}

var (
	unaryInfo  = &grpc.UnaryServerInfo{FullMethod: mOnInvoke}
	streamInfo = &grpc.StreamServerInfo{FullMethod: mStream}
	exemptInfo = &grpc.UnaryServerInfo{FullMethod: mAppHealth}
)

func noopUnary(context.Context, any) (any, error) { return nil, nil }
func noopStream(any, grpc.ServerStream) error     { return nil }
func readingUnary(ctx context.Context, _ any) (any, error) {
	return metadata.ValueFromIncomingContext(ctx, "traceparent"), nil
}

// BenchmarkInterceptor calls the interceptors directly, as grpc does, with
// a no-op handler, so that what is measured is their cost alone. Compare
// each with the bare sub-benchmark of its kind:
//
//	go test -run '^$' -bench BenchmarkInterceptor -benchmem ./adapters/grpc/
func BenchmarkInterceptor(b *testing.B) {
	v := benchVerifier(b)
	keep := benchVerifier(b, apptoken.WithKeepHeader())
	jwt := benchVerifier(b, apptoken.WithTokens(conformance.JWTToken))
	public := apptokengrpc.WithPublicMetadataAPI()
	right, wrong := incoming(token), incoming(wrongToken)
	proxied := incoming(conformance.DaprAPIToken, token)

	unary := []struct {
		name    string
		ic      grpc.UnaryServerInterceptor // nil: the handler alone
		ctx     context.Context
		info    *grpc.UnaryServerInfo
		handler grpc.UnaryHandler
	}{
		{"unary/bare", nil, right, unaryInfo, noopUnary},
		{"unary/apptoken", apptokengrpc.UnaryServerInterceptor(v), right, unaryInfo, noopUnary},
		{"unary/apptoken-keep-header", apptokengrpc.UnaryServerInterceptor(keep), right, unaryInfo, noopUnary},
		{"unary/apptoken-jwt", apptokengrpc.UnaryServerInterceptor(jwt), incoming(conformance.JWTToken), unaryInfo, noopUnary},
		{"unary/apptoken-two-values", apptokengrpc.UnaryServerInterceptor(v), proxied, unaryInfo, noopUnary},
		{"unary/apptoken-reject", apptokengrpc.UnaryServerInterceptor(v), wrong, unaryInfo, noopUnary},
		{"unary/apptoken-exempt", apptokengrpc.UnaryServerInterceptor(v), incoming(), exemptInfo, noopUnary},
		{"unary/apptoken-public-api", apptokengrpc.UnaryServerInterceptor(v, public), right, unaryInfo, noopUnary},
		{"unary/bare-handler-reads-md", nil, right, unaryInfo, readingUnary},
		{"unary/apptoken-handler-reads-md", apptokengrpc.UnaryServerInterceptor(v), right, unaryInfo, readingUnary},
	}
	for _, c := range unary {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			if c.ic == nil {
				for b.Loop() {
					_, _ = c.handler(c.ctx, nil)
				}
				return
			}
			for b.Loop() {
				_, _ = c.ic(c.ctx, nil, c.info, c.handler)
			}
		})
	}

	stream := []struct {
		name string
		ic   grpc.StreamServerInterceptor
		ss   grpc.ServerStream
	}{
		{"stream/bare", nil, fakeStream{right}},
		{"stream/apptoken", apptokengrpc.StreamServerInterceptor(v), fakeStream{right}},
		{"stream/apptoken-keep-header", apptokengrpc.StreamServerInterceptor(keep), fakeStream{right}},
		{"stream/apptoken-public-api", apptokengrpc.StreamServerInterceptor(v, public), fakeStream{right}},
	}
	for _, c := range stream {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			if c.ic == nil {
				for b.Loop() {
					_ = noopStream(nil, c.ss)
				}
				return
			}
			for b.Loop() {
				_ = c.ic(nil, c.ss, streamInfo, noopStream)
			}
		})
	}
}

// TestAcceptPathAllocs holds the interceptors to the performance target:
// accepting a call costs at most one allocation (the context that hides
// the token), none when the token is kept, and nothing when the call is
// exempt or rejected.
func TestAcceptPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	v := benchVerifier(t)
	keep := benchVerifier(t, apptoken.WithKeepHeader())
	unary := func(v *apptoken.Verifier, ctx context.Context, info *grpc.UnaryServerInfo) func() {
		ic := apptokengrpc.UnaryServerInterceptor(v)
		return func() { _, _ = ic(ctx, nil, info, noopUnary) }
	}
	stream := func(v *apptoken.Verifier, ctx context.Context) func() {
		ic, ss := apptokengrpc.StreamServerInterceptor(v), grpc.ServerStream(fakeStream{ctx})
		return func() { _ = ic(nil, ss, streamInfo, noopStream) }
	}
	cases := []struct {
		name string
		max  float64
		call func()
	}{
		{"unary accept", 1, unary(v, incoming(token), unaryInfo)},
		{"unary accept, two values", 1, unary(v, incoming(conformance.DaprAPIToken, token), unaryInfo)},
		{"unary accept, keep header", 0, unary(keep, incoming(token), unaryInfo)},
		{"unary exempt", 0, unary(v, incoming(), exemptInfo)},
		{"unary reject", 0, unary(v, incoming(wrongToken), unaryInfo)},
		{"stream accept", 1, stream(v, incoming(token))},
		{"stream accept, keep header", 0, stream(keep, incoming(token))},
	}
	for _, c := range cases {
		if got := testing.AllocsPerRun(100, c.call); got > c.max {
			t.Errorf("%s: %v allocations, want at most %v", c.name, got, c.max)
		}
	}
}
