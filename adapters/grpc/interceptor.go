package apptokengrpc

import (
	"context"

	apptoken "github.com/apptoken-go/apptoken/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errRejected is the default rejection: the same for a missing and a wrong
// token, made once so that rejecting allocates nothing.
var errRejected = status.Error(codes.Unauthenticated, apptoken.RejectionGRPCMessage)

// Option configures an interceptor. Options are made by the With…
// functions of this package; the interface is sealed. Everything that
// decides whether a call is let through (tokens, exempt methods, the
// legacy-sidecar option, keeping the token, the decision hook) is an option
// of the [apptoken.Verifier], not of the interceptor.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	onReject func(ctx context.Context, fullMethod string, d apptoken.Decision) error
	reader   reader
}

func newConfig(opts []Option) *config {
	c := &config{reader: reader{fast: incomingKey != nil}}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// WithErrorHandler replaces the error a rejected call ends with, which by
// default is status.Error(codes.Unauthenticated,
// apptoken.RejectionGRPCMessage) for every rejection. fn is given the
// call's context, its full method name and the verifier's decision (never
// the token). The call is rejected whatever fn returns: when it returns
// nil, the default error is used.
//
// Keep the answer free of anything that tells a caller what was expected,
// and keep it a status other than codes.OK and codes.Unimplemented: daprd
// drops a pub/sub message answered with Unimplemented, and retries on
// Unauthenticated.
func WithErrorHandler(fn func(ctx context.Context, fullMethod string, d apptoken.Decision) error) Option {
	return optionFunc(func(c *config) { c.onReject = fn })
}

// UnaryServerInterceptor returns an interceptor that lets a unary call
// through when v allows it: an exempt method (see
// [apptoken.WithGRPCExemptions]) or a call whose dapr-api-token metadata
// holds an accepted token in any of its values. Otherwise the call ends
// with codes.Unauthenticated before the handler runs. Unless
// v.KeepHeader(), the handler's context holds the incoming metadata
// without the dapr-api-token key. A nil v rejects every call.
func UnaryServerInterceptor(v *apptoken.Verifier, opts ...Option) grpc.UnaryServerInterceptor {
	c := newConfig(opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		fullMethod := ""
		if info != nil {
			fullMethod = info.FullMethod
		}
		md, vals, found := c.reader.values(ctx)
		d := v.VerifyGRPC(fullMethod, vals)
		if !d.Allowed() {
			return nil, c.reject(ctx, fullMethod, d)
		}
		if found && !v.KeepHeader() {
			ctx = c.reader.strip(ctx, md)
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is [UnaryServerInterceptor] for streaming calls,
// including those served by a grpc.UnknownServiceHandler (a proxy). The
// handler's stream answers Context() without the dapr-api-token key,
// unless v.KeepHeader().
func StreamServerInterceptor(v *apptoken.Verifier, opts ...Option) grpc.StreamServerInterceptor {
	c := newConfig(opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		fullMethod := ""
		if info != nil {
			fullMethod = info.FullMethod
		}
		ctx := ss.Context()
		md, vals, found := c.reader.values(ctx)
		d := v.VerifyGRPC(fullMethod, vals)
		if !d.Allowed() {
			return c.reject(ctx, fullMethod, d)
		}
		if found && !v.KeepHeader() {
			ss = c.reader.stripStream(ss, ctx, md)
		}
		return handler(srv, ss)
	}
}

func (c *config) reject(ctx context.Context, fullMethod string, d apptoken.Decision) error {
	if c.onReject != nil {
		if err := c.onReject(ctx, fullMethod, d); err != nil {
			return err
		}
	}
	return errRejected
}
