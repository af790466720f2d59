package apptokengrpc_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// tokenCases are the token values a call can present.
var tokenCases = []struct {
	name string
	md   metadata.MD
	want apptoken.Decision
	seen int // values the handler sees with WithKeepHeader
}{
	{"missing", metadata.MD{"x-other": {"1"}}, apptoken.Missing, 0},
	{"empty value", metadata.MD{headerName: {""}, "x-other": {"1"}}, apptoken.Missing, 1},
	{"wrong", metadata.MD{headerName: {wrongToken}, "x-other": {"1"}}, apptoken.Mismatch, 1},
	{"right", metadata.MD{headerName: {token}, "x-other": {"1"}}, apptoken.Accepted, 1},
	{"right, key spelt in capitals by the client", metadata.Pairs("Dapr-Api-Token", token, "X-Other", "1"), apptoken.Accepted, 1},
	{"Bearer token", metadata.MD{headerName: {"Bearer " + token}, "x-other": {"1"}}, apptoken.Mismatch, 1},
	{"token in authorization", metadata.MD{"authorization": {"Bearer " + token}, "x-other": {"1"}}, apptoken.Missing, 0},
	{"Dapr API token of the caller", metadata.MD{headerName: {conformance.DaprAPIToken}, "x-other": {"1"}}, apptoken.Mismatch, 1},
	{"two values, second right (daprd 1.14 proxying)", metadata.MD{headerName: {conformance.DaprAPIToken, token}, "x-other": {"1"}}, apptoken.Accepted, 2},
	{"two values, first right", metadata.MD{headerName: {token, wrongToken}, "x-other": {"1"}}, apptoken.Accepted, 2},
	{"two values, both wrong", metadata.MD{headerName: {wrongToken, conformance.DaprAPIToken}, "x-other": {"1"}}, apptoken.Mismatch, 2},
	{"prefix of the token", metadata.MD{headerName: {token[:len(token)-1]}, "x-other": {"1"}}, apptoken.Mismatch, 1},
	{"oversized value (64 KiB)", metadata.MD{headerName: {strings.Repeat("A", 64<<10)}, "x-other": {"1"}}, apptoken.TooLong, 1},
	{"token followed by padding past the limit", metadata.MD{headerName: {token + strings.Repeat("A", apptoken.MaxTokenLength)}, "x-other": {"1"}}, apptoken.TooLong, 1},
	{"right and oversized", metadata.MD{headerName: {token, strings.Repeat("A", apptoken.MaxTokenLength+1)}, "x-other": {"1"}}, apptoken.TooLong, 2},
	{"more values than MaxValues, all right", metadata.MD{headerName: slices.Repeat([]string{token}, apptoken.MaxValues+1), "x-other": {"1"}}, apptoken.TooManyValues, 5},
}

// checkRejected fails unless err is the default rejection.
func checkRejected(t *testing.T, err error) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unauthenticated || st.Message() != apptoken.RejectionGRPCMessage {
		t.Fatalf("error %v, want Unauthenticated %q", err, apptoken.RejectionGRPCMessage)
	}
	if strings.Contains(err.Error(), token) {
		t.Fatal("the error holds the token")
	}
}

// checkDecision fails unless exactly one decision, d for method, was made.
func checkDecision(t *testing.T, srv *server, method string, d apptoken.Decision) {
	t.Helper()
	got := srv.takeDecisions()
	if want := []decision{{d, "POST", method}}; !slices.Equal(got, want) {
		t.Fatalf("decisions %v, want %v", got, want)
	}
}

// keepOpts are the verifier options of a run with the token kept or not.
func keepOpts(keep bool) []apptoken.Option {
	if keep {
		return []apptoken.Option{apptoken.WithKeepHeader()}
	}
	return nil
}

func TestTokenValues(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run("keep="+strconv.FormatBool(keep), func(t *testing.T) {
			checkTokenValues(t, start(t, setup{verifierOpts: keepOpts(keep)}), keep)
		})
	}
}

// checkTokenValues runs every case of tokenCases as a unary and as a
// streaming call on srv, whose verifier keeps the token when keep is true.
func checkTokenValues(t *testing.T, srv *server, keep bool) {
	for _, c := range tokenCases {
		t.Run(c.name, func(t *testing.T) {
			seen := 0
			if keep {
				seen = c.seen
			}
			for _, kind := range []string{"unary", "stream"} {
				var got, method string
				var err error
				calls := srv.calls.Load()
				if kind == "unary" {
					method = mOnInvoke
					got, err = srv.unary(t, method, c.md)
				} else {
					method = mStream
					got, err = srv.stream(t, method, c.md)
				}
				if c.want.Allowed() {
					want := wantSeen(seen, 1)
					if kind == "stream" {
						want += "|" + want
					}
					if err != nil || got != want {
						t.Fatalf("%s: %q, %v; want %q", kind, got, err, want)
					}
				} else {
					checkRejected(t, err)
					if srv.calls.Load() != calls {
						t.Fatalf("%s: the handler ran for a rejected call", kind)
					}
				}
				checkDecision(t, srv, method, c.want)
			}
		})
	}
}

func TestExemptMethods(t *testing.T) {
	checkExemptMethods(t, start(t, setup{}))
}

// checkExemptMethods checks, on a server with the default exemptions, that
// exactly the default exempt methods answer without a token.
func checkExemptMethods(t *testing.T, srv *server) {
	health := healthpb.NewHealthClient(srv.conn)
	for _, m := range []string{mAppHealth, mListTopics, mListBindings} {
		got, err := srv.unary(t, m, nil)
		if err != nil || got != wantSeen(0, 0) {
			t.Errorf("%s without token: %q, %v", m, got, err)
		}
		checkDecision(t, srv, m, apptoken.Exempt)
		// A token on an exempt call is removed all the same.
		got, err = srv.unary(t, m, metadata.MD{headerName: {wrongToken}, "x-other": {"1"}})
		if err != nil || got != wantSeen(0, 1) {
			t.Errorf("%s with a wrong token: %q, %v", m, got, err)
		}
		checkDecision(t, srv, m, apptoken.Exempt)
	}

	resp, err := health.Check(ctxWith(t, nil), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("grpc.health.v1 Check without token: %v, %v", resp, err)
	}
	checkDecision(t, srv, mHealthCheck, apptoken.Exempt)

	watch, err := health.Watch(ctxWith(t, nil), &healthpb.HealthCheckRequest{})
	if err == nil {
		resp, err = watch.Recv()
	}
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("grpc.health.v1 Watch without token: %v, %v", resp, err)
	}
	checkDecision(t, srv, mHealthWatch, apptoken.Exempt)

	// Every other method needs the token: the callbacks that old sidecars
	// send without one, health List, the app's own services, and near
	// misses of the exempt names.
	for _, m := range []string{
		mOnInvoke, mOnTopicEvent, mOnBinding, mOnBulk, mOnJob, mOnBulkAlpha, mOnJobAlpha,
		mUnary, mListTopics2, mListTopicsLC, mAppCallbackLC, mAppHealthX,
	} {
		_, err := srv.unary(t, m, nil)
		checkRejected(t, err)
		checkDecision(t, srv, m, apptoken.Missing)
	}
	_, err = srv.stream(t, mStream, nil)
	checkRejected(t, err)
	checkDecision(t, srv, mStream, apptoken.Missing)
	_, err = health.List(ctxWith(t, nil), &healthpb.HealthListRequest{})
	checkRejected(t, err)
	checkDecision(t, srv, mHealthList, apptoken.Missing)
}

// TestExemptionOptions: WithGRPCExemptions adds to the defaults, and
// WithoutDefaultExemptions drops them, in either order.
func TestExemptionOptions(t *testing.T) {
	exemptNone := func(t *testing.T, srv *server, methods ...string) {
		t.Helper()
		for _, m := range methods {
			_, err := srv.unary(t, m, nil)
			checkRejected(t, err)
		}
	}
	added := start(t, setup{verifierOpts: []apptoken.Option{apptoken.WithGRPCExemptions(mUnary)}})
	for _, m := range []string{mUnary, mAppHealth, mListTopics, mListBindings} {
		if got, err := added.unary(t, m, nil); err != nil || got != wantSeen(0, 0) {
			t.Errorf("added exemption, %s: %q, %v", m, got, err)
		}
	}
	if _, err := healthpb.NewHealthClient(added.conn).Check(ctxWith(t, nil), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("added exemption, health Check: %v", err)
	}
	exemptNone(t, added, mOnInvoke)

	for name, opts := range map[string][]apptoken.Option{
		"added, then defaults dropped": {apptoken.WithGRPCExemptions(mUnary), apptoken.WithoutDefaultExemptions()},
		"defaults dropped, then added": {apptoken.WithoutDefaultExemptions(), apptoken.WithGRPCExemptions(mUnary)},
	} {
		srv := start(t, setup{verifierOpts: opts})
		if got, err := srv.unary(t, mUnary, nil); err != nil || got != wantSeen(0, 0) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
		exemptNone(t, srv, mAppHealth, mListTopics, mListBindings, mOnInvoke)
		_, err := healthpb.NewHealthClient(srv.conn).Check(ctxWith(t, nil), &healthpb.HealthCheckRequest{})
		checkRejected(t, err)
	}

	none := start(t, setup{verifierOpts: []apptoken.Option{apptoken.WithoutDefaultExemptions()}})
	exemptNone(t, none, mAppHealth, mUnary)
	if got, err := none.unary(t, mAppHealth, metadata.MD{headerName: {token}}); err != nil || got != wantSeen(0, 0) {
		t.Errorf("no exemptions, with the token: %q, %v", got, err)
	}
}

// legacyMethods are the callbacks that daprd v1.14.x, v1.15.0-12 and
// v1.16.0-1 send without a token, which WithInsecureLegacySidecarGRPC
// exempts.
var legacyMethods = []string{mOnTopicEvent, mOnBinding, mOnBulk, mOnJob, mOnBulkAlpha, mOnJobAlpha}

func TestLegacySidecarOption(t *testing.T) {
	srv := start(t, setup{verifierOpts: []apptoken.Option{apptoken.WithInsecureLegacySidecarGRPC()}})
	for _, m := range append(slices.Clone(legacyMethods), mAppHealth, mListTopics, mListBindings) {
		if got, err := srv.unary(t, m, nil); err != nil || got != wantSeen(0, 0) {
			t.Errorf("%s without token, legacy option on: %q, %v", m, got, err)
		}
		checkDecision(t, srv, m, apptoken.Exempt)
	}
	for _, m := range []string{mOnInvoke, mUnary, mListTopics2, mAppHealthX} {
		_, err := srv.unary(t, m, nil)
		checkRejected(t, err)
		checkDecision(t, srv, m, apptoken.Missing)
	}
	_, err := srv.stream(t, mStream, nil)
	checkRejected(t, err)
	if got, err := srv.unary(t, mOnInvoke, metadata.MD{headerName: {token}}); err != nil || got != wantSeen(0, 0) {
		t.Errorf("OnInvoke with the token, legacy option on: %q, %v", got, err)
	}
}

// TestDaprMethodNames pins the exemptions the core makes to the method
// names declared in Dapr's dapr/proto/runtime/v1/appcallback.proto
// (package dapr.proto.runtime.v1), as of v1.14.4 and v1.18.0: a misspelt
// name in the core would silently exempt nothing.
func TestDaprMethodNames(t *testing.T) {
	declared := []string{
		// service AppCallback
		"/dapr.proto.runtime.v1.AppCallback/OnInvoke",
		"/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions",
		"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
		"/dapr.proto.runtime.v1.AppCallback/ListInputBindings",
		"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnBulkTopicEvent", // v1.18.0
		"/dapr.proto.runtime.v1.AppCallback/OnJobEvent",       // v1.18.0
		// service AppCallbackHealthCheck
		"/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck",
		// service AppCallbackAlpha
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
	}
	noToken := []string{ // called without a token by every daprd version
		"/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions",
		"/dapr.proto.runtime.v1.AppCallback/ListInputBindings",
		"/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck",
	}
	legacy := []string{ // also without one by the old sidecars
		"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnBulkTopicEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
	}
	if !slices.Equal(legacy, legacyMethods) {
		t.Fatalf("legacyMethods %v, want %v", legacyMethods, legacy)
	}
	byDefault := conformance.NewVerifier(t, token)
	withLegacy := conformance.NewVerifier(t, token, apptoken.WithInsecureLegacySidecarGRPC())
	for _, m := range declared {
		if got, want := byDefault.VerifyGRPC(m, nil) == apptoken.Exempt, slices.Contains(noToken, m); got != want {
			t.Errorf("%s exempt by default: %v, want %v", m, got, want)
		}
		if got, want := withLegacy.VerifyGRPC(m, nil) == apptoken.Exempt, slices.Contains(noToken, m) || slices.Contains(legacy, m); got != want {
			t.Errorf("%s exempt with the legacy option: %v, want %v", m, got, want)
		}
	}
	for _, m := range []string{"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"} {
		if d := byDefault.VerifyGRPC(m, nil); d != apptoken.Exempt {
			t.Errorf("%s: %v, want exempt by default", m, d)
		}
	}
}

func TestNilVerifierPanics(t *testing.T) {
	conformance.PanicsOnNil(t, func() { apptokengrpc.UnaryServerInterceptor(nil) })
	conformance.PanicsOnNil(t, func() { apptokengrpc.StreamServerInterceptor(nil) })
	conformance.PanicsOnNil(t, func() { apptokengrpc.AuthFunc(nil) })
}

// errorHandlerCall is one call of the error handler of TestErrorHandler.
type errorHandlerCall struct {
	method string
	d      apptoken.Decision
	ctxOK  bool
}

// customErrors returns an error handler that answers PermissionDenied
// naming the decision, except for a missing token, for which it returns
// nil (the default rejection), and the calls it was given.
func customErrors() (apptokengrpc.Option, *[]errorHandlerCall) {
	calls := &[]errorHandlerCall{}
	return apptokengrpc.WithErrorHandler(func(ctx context.Context, fullMethod string, d apptoken.Decision) error {
		_, ok := metadata.FromIncomingContext(ctx)
		*calls = append(*calls, errorHandlerCall{fullMethod, d, ok})
		if d == apptoken.Missing {
			return nil // falls back to the default rejection
		}
		return status.Error(codes.PermissionDenied, "custom: "+d.String())
	}), calls
}

func TestErrorHandler(t *testing.T) {
	handler, calls := customErrors()
	checkErrorHandler(t, start(t, setup{opts: []apptokengrpc.Option{nil, handler}}), calls)

	// A nil handler restores the default.
	srv := start(t, setup{opts: []apptokengrpc.Option{handler, apptokengrpc.WithErrorHandler(nil)}})
	_, err := srv.unary(t, mOnInvoke, metadata.MD{headerName: {wrongToken}})
	checkRejected(t, err)
}

// checkErrorHandler checks srv, whose interceptors have the handler of
// customErrors, which recorded its calls in calls.
func checkErrorHandler(t *testing.T, srv *server, calls *[]errorHandlerCall) {
	_, err := srv.unary(t, mOnInvoke, metadata.MD{headerName: {wrongToken}})
	if st, _ := status.FromError(err); st.Code() != codes.PermissionDenied || st.Message() != "custom: mismatch" {
		t.Errorf("unary, wrong token: %v", err)
	}
	_, err = srv.stream(t, mStream, metadata.MD{headerName: {wrongToken}})
	if st, _ := status.FromError(err); st.Code() != codes.PermissionDenied {
		t.Errorf("stream, wrong token: %v", err)
	}
	_, err = srv.unary(t, mOnInvoke, nil)
	checkRejected(t, err)
	if got, err := srv.unary(t, mOnInvoke, metadata.MD{headerName: {token}}); err != nil || got != wantSeen(0, 0) {
		t.Errorf("right token: %q, %v", got, err)
	}
	want := []errorHandlerCall{{mOnInvoke, apptoken.Mismatch, true}, {mStream, apptoken.Mismatch, true}, {mOnInvoke, apptoken.Missing, true}}
	if !slices.Equal(*calls, want) {
		t.Errorf("error handler calls %v, want %v", *calls, want)
	}
}

// unknownServiceOpts are a server's options with the interceptors and
// UnknownServiceHandler.
func unknownServiceOpts(v *apptoken.Verifier) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(v)),
		grpc.ChainStreamInterceptor(apptokengrpc.StreamServerInterceptor(v)),
		grpc.UnknownServiceHandler(apptokengrpc.UnknownServiceHandler),
	}
}

// unknownMethods are methods the test server does not serve: of a service
// it does not know, and of one it knows.
var unknownMethods = []string{"/some.other.v1.Service/Call", "/apptoken.test.v1.Echo/Secret"}

// TestUnknownServiceHandler: with UnknownServiceHandler and the stream
// interceptor, a caller without a valid token learns nothing about which
// services and methods exist; with the token it gets Unimplemented.
func TestUnknownServiceHandler(t *testing.T) {
	checkUnknownMethods(t, start(t, setup{serverOpts: unknownServiceOpts}))
}

// checkUnknownMethods checks that srv answers unknown methods as
// UnknownServiceHandler behind a token check must.
func checkUnknownMethods(t *testing.T, srv *server) {
	for _, m := range unknownMethods {
		for _, md := range []metadata.MD{nil, {headerName: {wrongToken}}} {
			_, err := srv.unary(t, m, md)
			checkRejected(t, err)
			_, err = srv.stream(t, m, md)
			checkRejected(t, err)
		}
		for _, call := range []func(testing.TB, string, metadata.MD) (string, error){srv.unary, srv.stream} {
			_, err := call(t, m, metadata.MD{headerName: {token}})
			if st, _ := status.FromError(err); st.Code() != codes.Unimplemented || st.Message() != "unknown method "+m {
				t.Errorf("%s with the token: %v, want Unimplemented", m, err)
			}
		}
		if n := len(srv.takeDecisions()); n != 6 {
			t.Errorf("%s: %d decisions, want 6", m, n)
		}
	}
	// Known methods are served as before.
	if got, err := srv.unary(t, mOnInvoke, metadata.MD{headerName: {token}}); err != nil || got != wantSeen(0, 0) {
		t.Errorf("a known method with the token: %q, %v", got, err)
	}
	_, err := srv.unary(t, mOnInvoke, nil)
	checkRejected(t, err)
	srv.takeDecisions()
}

// TestUnknownServiceWithout shows what UnknownServiceHandler is for: by
// default grpc answers an unknown method Unimplemented, naming it, before
// any interceptor runs.
func TestUnknownServiceWithout(t *testing.T) {
	srv := start(t, setup{})
	_, err := srv.unary(t, unknownMethods[0], nil)
	if st, _ := status.FromError(err); st.Code() != codes.Unimplemented || !strings.Contains(st.Message(), "some.other.v1.Service") {
		t.Errorf("unknown service without UnknownServiceHandler: %v", err)
	}
	if d := srv.takeDecisions(); len(d) != 0 {
		t.Errorf("the verifier was asked about an unknown method: %v", d)
	}
}

// TestProxy: a server whose grpc.UnknownServiceHandler forwards calls (a
// proxy) has them checked by the stream interceptor, and the handler does
// not see the token.
func TestProxy(t *testing.T) {
	const method = "/some.other.v1.Service/Call"
	var srv *server
	srv = start(t, setup{serverOpts: func(v *apptoken.Verifier) []grpc.ServerOption {
		return []grpc.ServerOption{
			grpc.ChainStreamInterceptor(apptokengrpc.StreamServerInterceptor(v)),
			grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error { return srv.streamHandler(nil, ss) }),
		}
	}})
	_, err := srv.stream(t, method, nil)
	checkRejected(t, err)
	checkDecision(t, srv, method, apptoken.Missing)
	got, err := srv.stream(t, method, metadata.MD{headerName: {conformance.DaprAPIToken, token}, "x-other": {"1"}})
	if want := wantSeen(0, 1) + "|" + wantSeen(0, 1); err != nil || got != want {
		t.Errorf("proxied call with the token: %q, %v; want %q", got, err, want)
	}
	checkDecision(t, srv, method, apptoken.Accepted)
}

// TestHandlerContext: what the interceptors hand on still works as the
// call's context (deadline, cancellation, values), for unary and stream.
func TestHandlerContext(t *testing.T) {
	v := newVerifier(t, &server{}, apptoken.WithoutDefaultExemptions())
	type key struct{}
	base := context.WithValue(context.Background(), key{}, "v")
	base, cancel := context.WithCancel(base)
	ctx := metadata.NewIncomingContext(base, metadata.MD{headerName: {token}, "x-other": {"1"}})

	check := func(ctx context.Context) {
		t.Helper()
		if ctx.Value(key{}) != "v" {
			t.Error("a value of the call's context is lost")
		}
		if got := string(seenReply(ctx)); got != wantSeen(0, 1) {
			t.Errorf("handler sees %q", got)
		}
		// A handler may attach metadata of its own on top.
		inner := metadata.NewIncomingContext(ctx, metadata.MD{"x-inner": {"1"}})
		if md, _ := metadata.FromIncomingContext(inner); len(md) != 1 {
			t.Errorf("metadata attached by the handler: %v", md)
		}
		if ctx.Err() != nil {
			t.Error("context done too early")
		}
	}
	unary := apptokengrpc.UnaryServerInterceptor(v)
	var handed context.Context
	_, err := unary(ctx, nil, &grpc.UnaryServerInfo{FullMethod: mUnary}, func(ctx context.Context, _ any) (any, error) {
		check(ctx)
		handed = ctx
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stream := apptokengrpc.StreamServerInterceptor(v)
	var handedStream context.Context
	err = stream(nil, fakeStream{ctx}, &grpc.StreamServerInfo{FullMethod: mStream}, func(_ any, ss grpc.ServerStream) error {
		check(ss.Context())
		handedStream = ss.Context()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for _, c := range []context.Context{handed, handedStream} {
		<-c.Done()
		if !errors.Is(c.Err(), context.Canceled) {
			t.Errorf("cancellation not seen: %v", c.Err())
		}
	}
	// The metadata the call came with is untouched.
	if got := metadata.ValueFromIncomingContext(ctx, headerName); len(got) != 1 || got[0] != token {
		t.Errorf("the call's own metadata changed: %d values", len(got))
	}
}

// fakeStream is a grpc.ServerStream with a context and nothing else.
type fakeStream struct{ ctx context.Context }

func (s fakeStream) Context() context.Context   { return s.ctx }
func (fakeStream) SetHeader(metadata.MD) error  { return nil }
func (fakeStream) SendHeader(metadata.MD) error { return nil }
func (fakeStream) SetTrailer(metadata.MD)       {}
func (fakeStream) SendMsg(any) error            { return nil }
func (fakeStream) RecvMsg(any) error            { return io.EOF }
