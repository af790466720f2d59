package apptokengrpc

import (
	"context"

	apptoken "github.com/apptoken-go/apptoken/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// errRejected is the default rejection: the same for every rejecting
// decision, made once.
var errRejected = status.Error(codes.Unauthenticated, apptoken.RejectionGRPCMessage)

// Option configures the interceptors and [AuthFunc]. Options are made by
// the With… functions of this package; the interface is sealed. What
// decides whether a call is let through (tokens, exempt methods, keeping
// the token, the decision hook) is an option of the [apptoken.Verifier].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithErrorHandler replaces the error a rejected call ends with, by default
// status.Error(codes.Unauthenticated, apptoken.RejectionGRPCMessage).
// fn is given the call's context, its full method name and the verifier's
// decision (never the token); when it returns nil, the default error is
// used, so a call is rejected whatever fn does. Keep the answer free of
// what was expected, and keep to the rule written at
// [apptoken.RejectionStatus]: never codes.OK, never codes.Unimplemented.
// A nil fn restores the default.
func WithErrorHandler(fn func(ctx context.Context, fullMethod string, d apptoken.Decision) error) Option {
	return optionFunc(func(c *config) { c.onReject = fn })
}

type config struct {
	v        *apptoken.Verifier
	onReject func(ctx context.Context, fullMethod string, d apptoken.Decision) error
}

func newConfig(name string, v *apptoken.Verifier, opts []Option) *config {
	if v == nil {
		panic("apptokengrpc: " + name + ": nil *apptoken.Verifier; make one with apptoken.New")
	}
	c := &config{v: v}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// check decides the call to fullMethod whose context is ctx. It returns
// the error the call must end with, or the context the handler must get
// and whether that is a new one, made to hide the token.
func (c *config) check(ctx context.Context, fullMethod string) (context.Context, bool, error) {
	values := metadata.ValueFromIncomingContext(ctx, apptoken.HeaderName)
	d := c.v.VerifyGRPC(fullMethod, values)
	if !d.Allowed() {
		if c.onReject != nil {
			if err := c.onReject(ctx, fullMethod, d); err != nil {
				return nil, false, err
			}
		}
		return nil, false, errRejected
	}
	if values == nil || !c.v.HidesToken() {
		return ctx, false, nil
	}
	md, _ := metadata.FromIncomingContext(ctx) // a copy, keys in lower case
	delete(md, apptoken.HeaderName)
	return metadata.NewIncomingContext(ctx, md), true, nil
}

// UnaryServerInterceptor returns an interceptor that lets a unary call
// through when v allows it (an exempt method, or a dapr-api-token value
// that is an accepted token) and otherwise ends it with
// codes.Unauthenticated before the handler runs. The handler's context
// holds the incoming metadata without dapr-api-token unless
// [apptoken.WithKeepHeader] was given. It panics if v is nil.
func UnaryServerInterceptor(v *apptoken.Verifier, opts ...Option) grpc.UnaryServerInterceptor {
	c := newConfig("UnaryServerInterceptor", v, opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, _, err := c.check(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is [UnaryServerInterceptor] for streaming calls,
// and for the calls a grpc.UnknownServiceHandler serves (see
// [UnknownServiceHandler]). The handler's stream answers Context() without
// the token.
func StreamServerInterceptor(v *apptoken.Verifier, opts ...Option) grpc.StreamServerInterceptor {
	c := newConfig("StreamServerInterceptor", v, opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, hidden, err := c.check(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		if hidden {
			ss = &serverStream{ServerStream: ss, ctx: ctx}
		}
		return handler(srv, ss)
	}
}

// serverStream is a grpc.ServerStream with another context.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// AuthFunc returns the check of the interceptors as a function of the
// shape of go-grpc-middleware v2's auth.AuthFunc, for its
// auth.UnaryServerInterceptor and auth.StreamServerInterceptor (and so
// behind its selector interceptor). The method is taken from
// grpc.Method(ctx); exemptions, token values, errors and [Option]s are
// those of the interceptors, and the context it returns holds the
// incoming metadata without dapr-api-token unless
// [apptoken.WithKeepHeader] was given. A service implementing
// auth.ServiceAuthFuncOverride replaces it, and the token check with it.
// It panics if v is nil.
func AuthFunc(v *apptoken.Verifier, opts ...Option) func(ctx context.Context) (context.Context, error) {
	c := newConfig("AuthFunc", v, opts)
	return func(ctx context.Context) (context.Context, error) {
		method, _ := grpc.Method(ctx) // "" when unknown: never exempt
		ctx, _, err := c.check(ctx, method)
		return ctx, err
	}
}

// UnknownServiceHandler answers every call with codes.Unimplemented. Give
// it to grpc.UnknownServiceHandler together with [StreamServerInterceptor]
// (or the auth interceptor with [AuthFunc]): grpc then runs the stream
// interceptors for calls to services and methods it does not know, so a
// caller without a valid token gets codes.Unauthenticated for every
// method, known or not, and cannot list the server's API by trying names.
// Without it, grpc answers such calls Unimplemented, naming the service or
// method, before any interceptor runs. (A name that is not of the form
// /service/method is still answered so by grpc itself; that answer only
// repeats what the caller sent.)
func UnknownServiceHandler(_ any, ss grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(ss)
	return status.Errorf(codes.Unimplemented, "unknown method %s", method)
}
