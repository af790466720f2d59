package apptokengrpc_test

import (
	"context"
	"testing"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// authServer starts a server that checks the token with go-grpc-middleware
// v2's auth interceptors given AuthFunc, behind its selector interceptor,
// which skips mUnary, and with UnknownServiceHandler.
func authServer(t *testing.T, verifierOpts []apptoken.Option, opts ...apptokengrpc.Option) *server {
	return start(t, setup{verifierOpts: verifierOpts, serverOpts: func(v *apptoken.Verifier) []grpc.ServerOption {
		check := apptokengrpc.AuthFunc(v, opts...)
		notUnary := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
			return c.FullMethod() != mUnary
		})
		return []grpc.ServerOption{
			grpc.ChainUnaryInterceptor(selector.UnaryServerInterceptor(auth.UnaryServerInterceptor(check), notUnary)),
			grpc.ChainStreamInterceptor(selector.StreamServerInterceptor(auth.StreamServerInterceptor(check), notUnary)),
			grpc.UnknownServiceHandler(apptokengrpc.UnknownServiceHandler),
		}
	}})
}

// TestAuthFunc runs the interceptors' tests on a server built with
// go-grpc-middleware's interceptors and AuthFunc: it must behave alike.
func TestAuthFunc(t *testing.T) {
	t.Run("token values", func(t *testing.T) { checkTokenValues(t, authServer(t, nil), false) })
	t.Run("token values, keep", func(t *testing.T) {
		checkTokenValues(t, authServer(t, []apptoken.Option{apptoken.WithKeepHeader()}), true)
	})
	t.Run("added exemption", func(t *testing.T) {
		srv := authServer(t, []apptoken.Option{apptoken.WithGRPCExemptions(mOnTopicEvent)})
		if got, err := srv.unary(t, mOnTopicEvent, metadata.MD{headerName: {token}, "x-other": {"1"}}); err != nil || got != wantSeen(0, 1) {
			t.Errorf("added exemption: %q, %v", got, err)
		}
		checkDecision(t, srv, mOnTopicEvent, apptoken.Exempt)
	})
	t.Run("selector skips a method", func(t *testing.T) {
		srv := authServer(t, nil)
		got, err := srv.unary(t, mUnary, metadata.MD{headerName: {token}})
		if err != nil || got != wantSeen(1, 0) {
			t.Errorf("a method the selector skips: %q, %v; want it served, token untouched", got, err)
		}
		if d := srv.takeDecisions(); len(d) != 0 {
			t.Errorf("a method the selector skips was decided: %v", d)
		}
	})
	t.Run("error handler", func(t *testing.T) {
		handler, calls := customErrors()
		checkErrorHandler(t, authServer(t, nil, handler), calls)
	})
	t.Run("unknown methods", func(t *testing.T) { checkUnknownMethods(t, authServer(t, nil)) })
}

// TestAuthFuncExempt runs checkExemptMethods on a server with AuthFunc and
// no selector, since that check wants every method but the exempt ones,
// mUnary included, rejected.
func TestAuthFuncExempt(t *testing.T) {
	srv := start(t, setup{serverOpts: func(v *apptoken.Verifier) []grpc.ServerOption {
		check := apptokengrpc.AuthFunc(v)
		return []grpc.ServerOption{
			grpc.ChainUnaryInterceptor(auth.UnaryServerInterceptor(check)),
			grpc.ChainStreamInterceptor(auth.StreamServerInterceptor(check)),
		}
	}})
	checkExemptMethods(t, srv)
}

// TestAuthFuncOutsideACall: without a method in its context, nothing is
// exempt, and the token still decides.
func TestAuthFuncOutsideACall(t *testing.T) {
	check := apptokengrpc.AuthFunc(newVerifier(t, &server{}))
	if _, err := check(context.Background()); err == nil {
		t.Error("a context without metadata was let through")
	}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{headerName: {token}, "x-other": {"1"}})
	got, err := check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(seenReply(got)); s != wantSeen(0, 1) {
		t.Errorf("the returned context: %s", s)
	}
}
