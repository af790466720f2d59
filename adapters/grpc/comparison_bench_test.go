package apptokengrpc_test

import (
	"context"
	"crypto/subtle"
	"testing"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

var (
	cmpInfo   = &grpc.UnaryServerInfo{FullMethod: "/dapr.proto.runtime.v1.AppCallback/OnInvoke"}
	cmpDenied = status.Error(codes.Unauthenticated, apptoken.RejectionGRPCMessage)
	// The request and the reply, boxed once so that passing them costs
	// nothing.
	cmpRequest any = []byte("{}")
	cmpReply   any = []byte("ok")
)

// cmpHandler is the method of every sub-benchmark: a tiny reply.
func cmpHandler(context.Context, any) (any, error) { return cmpReply, nil }

// cmpIncoming is a call's context as grpc's server transport hands it to
// interceptors, with the metadata daprd sends: tokens are the values of
// dapr-api-token, which is absent when none are given.
func cmpIncoming(tokens ...string) context.Context {
	md := metadata.MD{
		":authority":   {"127.0.0.1:50051"},
		"content-type": {"application/grpc"},
		"user-agent":   {"grpc-go/1.85.0"},
		"traceparent":  {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	}
	if tokens != nil {
		md[apptoken.HeaderName] = tokens
	}
	return metadata.NewIncomingContext(context.Background(), md)
}

// cmpSDK is the check written by hand today, as the Dapr Go SDK writes it:
// copy the incoming metadata with FromIncomingContext, Get the key,
// compare the first value with !=.
func cmpSDK(token string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, ok := metadata.FromIncomingContext(ctx)
		if !ok {
			return nil, cmpDenied
		}
		if vals := md.Get(apptoken.HeaderName); len(vals) == 0 || vals[0] != token {
			return nil, cmpDenied
		}
		return handler(ctx, req)
	}
}

// cmpSDKLean is the same check written the cheapest way: the key's values
// alone, with ValueFromIncomingContext.
func cmpSDKLean(token string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		vals := metadata.ValueFromIncomingContext(ctx, apptoken.HeaderName)
		if len(vals) == 0 || vals[0] != token {
			return nil, cmpDenied
		}
		return handler(ctx, req)
	}
}

// cmpKeyAuth is go-grpc-middleware's auth interceptor with an AuthFunc
// that reads the metadata key and compares in constant time.
func cmpKeyAuth(token string) grpc.UnaryServerInterceptor {
	want := []byte(token)
	return auth.UnaryServerInterceptor(func(ctx context.Context) (context.Context, error) {
		vals := metadata.ValueFromIncomingContext(ctx, apptoken.HeaderName)
		if len(vals) == 0 || subtle.ConstantTimeCompare([]byte(vals[0]), want) != 1 {
			return nil, cmpDenied
		}
		return ctx, nil
	})
}

// cmpDeny ends the call with the standard rejection, and does nothing
// else: what rejecting costs.
func cmpDeny(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error) {
	return nil, cmpDenied
}

// BenchmarkMiddleware calls a unary interceptor directly, as
// grpc's server calls its one interceptor, with a context carrying the
// incoming metadata, for each token shape:
//
//   - bare: the method alone;
//   - apptoken: this interceptor, valid token (the method gets a copy of
//     the metadata without the token, in a new context);
//   - apptoken-keep: the same with apptoken.WithKeepHeader;
//   - apptoken-reject: this interceptor, wrong token of the same length;
//   - sdk: the hand-written check as the Dapr Go SDK writes it, a copy of
//     the metadata and md.Get(key)[0] != token;
//   - sdk-lean: the same with ValueFromIncomingContext, the cheapest way;
//   - keyauth: go-grpc-middleware's auth interceptor, comparing in
//     constant time;
//   - deny: an interceptor that only rejects.
//
// A real server, even over an in-memory connection, would bury these tens
// of nanoseconds under microseconds of transport.
func BenchmarkMiddleware(b *testing.B) {
	for _, s := range conformance.Shapes {
		v := conformance.NewVerifier(b, s.Token)
		keep := conformance.NewVerifier(b, s.Token, apptoken.WithKeepHeader())
		cases := []struct {
			name string
			ic   grpc.UnaryServerInterceptor
			ctx  context.Context
			ok   bool
		}{
			{"bare", nil, cmpIncoming(s.Token), true},
			{"apptoken", apptokengrpc.UnaryServerInterceptor(v), cmpIncoming(s.Token), true},
			{"apptoken-keep", apptokengrpc.UnaryServerInterceptor(keep), cmpIncoming(s.Token), true},
			{"apptoken-reject", apptokengrpc.UnaryServerInterceptor(v), cmpIncoming(s.Wrong), false},
			{"sdk", cmpSDK(s.Token), cmpIncoming(s.Token), true},
			{"sdk-lean", cmpSDKLean(s.Token), cmpIncoming(s.Token), true},
			{"keyauth", cmpKeyAuth(s.Token), cmpIncoming(s.Token), true},
			{"deny", cmpDeny, cmpIncoming(s.Token), false},
		}
		for _, c := range cases {
			call := func() (any, error) { return cmpHandler(c.ctx, cmpRequest) }
			if c.ic != nil {
				ic, ctx := c.ic, c.ctx
				call = func() (any, error) { return ic(ctx, cmpRequest, cmpInfo, cmpHandler) }
			}
			// Once, to be sure of what is measured.
			if _, err := call(); (err == nil) != c.ok {
				b.Fatalf("%s/%s: error %v, want ok=%v", s.Name, c.name, err, c.ok)
			}
			b.Run(s.Name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				if c.ic == nil {
					ctx := c.ctx
					for b.Loop() {
						_, _ = cmpHandler(ctx, cmpRequest)
					}
					return
				}
				ic, ctx := c.ic, c.ctx
				for b.Loop() {
					_, _ = ic(ctx, cmpRequest, cmpInfo, cmpHandler)
				}
			})
		}
	}
}
