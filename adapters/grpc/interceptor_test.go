package apptokengrpc_test

import (
	"context"
	"errors"
	"io"
	"slices"
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

// modes runs a test with the fast metadata reader (the default when
// available) and with grpc's public API only (the fallback).
var modes = []struct {
	name string
	opts []apptokengrpc.Option
}{
	{"fast", nil},
	{"public-api", []apptokengrpc.Option{apptokengrpc.WithPublicMetadataAPI()}},
}

var (
	accepted = apptoken.Decision{Outcome: apptoken.OutcomeAccepted, Reason: apptoken.ReasonMatch}
	exempt   = apptoken.Decision{Outcome: apptoken.OutcomeExempt, Reason: apptoken.ReasonExempt}
	noValue  = apptoken.Decision{Outcome: apptoken.OutcomeMissing, Reason: apptoken.ReasonNoValue}
	mismatch = apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonMismatch}
	tooLong  = apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonTooLong}
	tooMany  = apptoken.Decision{Outcome: apptoken.OutcomeInvalid, Reason: apptoken.ReasonTooManyValues}
)

// tokenCases are the token values a call can present.
var tokenCases = []struct {
	name string
	md   metadata.MD
	want apptoken.Decision
	seen int // values the handler sees with WithKeepHeader
}{
	{"missing", metadata.MD{"x-other": {"1"}}, noValue, 0},
	{"empty value", metadata.MD{headerName: {""}, "x-other": {"1"}}, noValue, 1},
	{"wrong", metadata.MD{headerName: {wrongToken}, "x-other": {"1"}}, mismatch, 1},
	{"right", metadata.MD{headerName: {token}, "x-other": {"1"}}, accepted, 1},
	{"right, key spelt in capitals by the client", metadata.Pairs("Dapr-Api-Token", token, "X-Other", "1"), accepted, 1},
	{"Bearer token", metadata.MD{headerName: {"Bearer " + token}, "x-other": {"1"}}, mismatch, 1},
	{"token in authorization", metadata.MD{"authorization": {"Bearer " + token}, "x-other": {"1"}}, noValue, 0},
	{"Dapr API token of the caller", metadata.MD{headerName: {conformance.DaprAPIToken}, "x-other": {"1"}}, mismatch, 1},
	{"two values, second right (daprd 1.14 proxying)", metadata.MD{headerName: {conformance.DaprAPIToken, token}, "x-other": {"1"}}, accepted, 2},
	{"two values, first right", metadata.MD{headerName: {token, wrongToken}, "x-other": {"1"}}, accepted, 2},
	{"two values, both wrong", metadata.MD{headerName: {wrongToken, conformance.DaprAPIToken}, "x-other": {"1"}}, mismatch, 2},
	{"prefix of the token", metadata.MD{headerName: {token[:len(token)-1]}, "x-other": {"1"}}, mismatch, 1},
	{"oversized value (64 KiB)", metadata.MD{headerName: {strings.Repeat("A", 64<<10)}, "x-other": {"1"}}, tooLong, 1},
	{"token followed by padding past the limit", metadata.MD{headerName: {token + strings.Repeat("A", apptoken.MaxTokenLength)}, "x-other": {"1"}}, tooLong, 1},
	{"right and oversized", metadata.MD{headerName: {token, strings.Repeat("A", apptoken.MaxTokenLength+1)}, "x-other": {"1"}}, tooLong, 2},
	{"more values than MaxValues, all right", metadata.MD{headerName: slices.Repeat([]string{token}, apptoken.MaxValues+1), "x-other": {"1"}}, tooMany, 5},
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

func TestTokenValues(t *testing.T) {
	for _, mode := range modes {
		for _, keep := range []bool{false, true} {
			name := mode.name
			var vopts []apptoken.Option
			if keep {
				name += "/keep-header"
				vopts = append(vopts, apptoken.WithKeepHeader())
			}
			t.Run(name, func(t *testing.T) {
				srv := start(t, setup{opts: mode.opts, verifierOpts: vopts})
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
			})
		}
	}
}

func TestExemptMethods(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := start(t, setup{opts: mode.opts})
			health := healthpb.NewHealthClient(srv.conn)

			for _, m := range []string{mAppHealth, mListTopics, mListBindings} {
				got, err := srv.unary(t, m, nil)
				if err != nil || got != wantSeen(0, 0) {
					t.Errorf("%s without token: %q, %v", m, got, err)
				}
				checkDecision(t, srv, m, exempt)
				// A token on an exempt call is removed all the same.
				got, err = srv.unary(t, m, metadata.MD{headerName: {wrongToken}, "x-other": {"1"}})
				if err != nil || got != wantSeen(0, 1) {
					t.Errorf("%s with a wrong token: %q, %v", m, got, err)
				}
				checkDecision(t, srv, m, exempt)
			}

			resp, err := health.Check(ctxWith(t, nil), &healthpb.HealthCheckRequest{})
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("grpc.health.v1 Check without token: %v, %v", resp, err)
			}
			checkDecision(t, srv, apptoken.GRPCMethodHealthCheck, exempt)

			watch, err := health.Watch(ctxWith(t, nil), &healthpb.HealthCheckRequest{})
			if err == nil {
				resp, err = watch.Recv()
			}
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("grpc.health.v1 Watch without token: %v, %v", resp, err)
			}
			checkDecision(t, srv, apptoken.GRPCMethodHealthWatch, exempt)

			// Every other method needs the token: the callbacks that old
			// sidecars send without one, health List, the app's own
			// services, and near misses of the exempt names.
			for _, m := range []string{
				mOnInvoke, mOnTopicEvent, mOnBinding, mOnBulk, mOnJob, mOnBulkAlpha, mOnJobAlpha,
				mUnary, mListTopics2, mListTopicsLC, mAppCallbackLC, mAppHealthX,
			} {
				_, err := srv.unary(t, m, nil)
				checkRejected(t, err)
				checkDecision(t, srv, m, noValue)
			}
			_, err = srv.stream(t, mStream, nil)
			checkRejected(t, err)
			checkDecision(t, srv, mStream, noValue)
			_, err = health.List(ctxWith(t, nil), &healthpb.HealthListRequest{})
			checkRejected(t, err)
			checkDecision(t, srv, mHealthList, noValue)
		})
	}
}

func TestExemptionsReplaced(t *testing.T) {
	srv := start(t, setup{verifierOpts: []apptoken.Option{apptoken.WithGRPCExemptions(mUnary)}})
	if got, err := srv.unary(t, mUnary, nil); err != nil || got != wantSeen(0, 0) {
		t.Errorf("custom exemption: %q, %v", got, err)
	}
	for _, m := range []string{mAppHealth, mListTopics, mListBindings} {
		_, err := srv.unary(t, m, nil)
		checkRejected(t, err)
	}
	_, err := healthpb.NewHealthClient(srv.conn).Check(ctxWith(t, nil), &healthpb.HealthCheckRequest{})
	checkRejected(t, err)

	none := start(t, setup{verifierOpts: []apptoken.Option{apptoken.WithGRPCExemptions()}})
	_, err = none.unary(t, mAppHealth, nil)
	checkRejected(t, err)
	if got, err := none.unary(t, mAppHealth, metadata.MD{headerName: {token}}); err != nil || got != wantSeen(0, 0) {
		t.Errorf("no exemptions, with the token: %q, %v", got, err)
	}
}

func TestLegacySidecarOption(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := start(t, setup{opts: mode.opts, verifierOpts: []apptoken.Option{apptoken.WithInsecureLegacySidecarGRPC()}})
			legacy := apptoken.LegacySidecarGRPCMethods()
			for _, m := range append(legacy, mAppHealth, mListTopics, mListBindings) {
				if got, err := srv.unary(t, m, nil); err != nil || got != wantSeen(0, 0) {
					t.Errorf("%s without token, legacy option on: %q, %v", m, got, err)
				}
				checkDecision(t, srv, m, exempt)
			}
			for _, m := range []string{mOnInvoke, mUnary, mListTopics2, mAppHealthX} {
				_, err := srv.unary(t, m, nil)
				checkRejected(t, err)
				checkDecision(t, srv, m, noValue)
			}
			_, err := srv.stream(t, mStream, nil)
			checkRejected(t, err)
			if got, err := srv.unary(t, mOnInvoke, metadata.MD{headerName: {token}}); err != nil || got != wantSeen(0, 0) {
				t.Errorf("OnInvoke with the token, legacy option on: %q, %v", got, err)
			}
		})
	}
}

// TestDaprMethodNames pins the method names the core's lists use to those
// declared in Dapr's dapr/proto/runtime/v1/appcallback.proto (package
// dapr.proto.runtime.v1), as of v1.14.4 and v1.18.0: a misspelt name would
// silently exempt nothing.
func TestDaprMethodNames(t *testing.T) {
	declared := map[string]bool{
		// service AppCallback
		"/dapr.proto.runtime.v1.AppCallback/OnInvoke":               true,
		"/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions": true,
		"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent":           true,
		"/dapr.proto.runtime.v1.AppCallback/ListInputBindings":      true,
		"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent":         true,
		"/dapr.proto.runtime.v1.AppCallback/OnBulkTopicEvent":       true, // v1.18.0
		"/dapr.proto.runtime.v1.AppCallback/OnJobEvent":             true, // v1.18.0
		// service AppCallbackHealthCheck
		"/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck": true,
		// service AppCallbackAlpha
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1": true,
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1":       true,
	}
	wantLegacy := []string{ // sorted
		"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnBulkTopicEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1",
		"/dapr.proto.runtime.v1.AppCallbackAlpha/OnJobEventAlpha1",
	}
	legacy := apptoken.LegacySidecarGRPCMethods()
	for _, m := range legacy {
		if !declared[m] {
			t.Errorf("LegacySidecarGRPCMethods lists %s, which Dapr does not declare", m)
		}
	}
	if got := slices.Sorted(slices.Values(legacy)); !slices.Equal(got, wantLegacy) {
		t.Errorf("LegacySidecarGRPCMethods = %v, want %v", got, wantLegacy)
	}
	for _, m := range apptoken.DefaultGRPCExemptions() {
		if !declared[m] && !strings.HasPrefix(m, "/grpc.health.v1.Health/") {
			t.Errorf("DefaultGRPCExemptions lists %s, which Dapr does not declare", m)
		}
	}
}

func TestNilVerifier(t *testing.T) {
	srv := start(t, setup{nilVerifier: true})
	for _, m := range []string{mOnInvoke, mAppHealth, mListTopics} {
		_, err := srv.unary(t, m, metadata.MD{headerName: {token}})
		checkRejected(t, err)
	}
	_, err := srv.stream(t, mStream, metadata.MD{headerName: {token}})
	checkRejected(t, err)
	_, err = healthpb.NewHealthClient(srv.conn).Check(ctxWith(t, nil), &healthpb.HealthCheckRequest{})
	checkRejected(t, err)
	if n := srv.calls.Load(); n != 0 {
		t.Errorf("handlers ran %d times behind a nil verifier", n)
	}
}

func TestErrorHandler(t *testing.T) {
	type call struct {
		method string
		d      apptoken.Decision
		ctxOK  bool
	}
	var calls []call
	handler := apptokengrpc.WithErrorHandler(func(ctx context.Context, fullMethod string, d apptoken.Decision) error {
		_, ok := metadata.FromIncomingContext(ctx)
		calls = append(calls, call{fullMethod, d, ok})
		if d.Reason == apptoken.ReasonNoValue {
			return nil // falls back to the default rejection
		}
		return status.Error(codes.PermissionDenied, "custom: "+d.String())
	})
	srv := start(t, setup{opts: []apptokengrpc.Option{nil, handler}})

	_, err := srv.unary(t, mOnInvoke, metadata.MD{headerName: {wrongToken}})
	if st, _ := status.FromError(err); st.Code() != codes.PermissionDenied || st.Message() != "custom: invalid/mismatch" {
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
	want := []call{{mOnInvoke, mismatch, true}, {mStream, mismatch, true}, {mOnInvoke, noValue, true}}
	if !slices.Equal(calls, want) {
		t.Errorf("error handler calls %v, want %v", calls, want)
	}
}

// TestUnknownService: a server with an UnknownServiceHandler (a proxy) has
// its calls checked by the stream interceptor; without one, grpc answers
// Unimplemented before any interceptor runs.
func TestUnknownService(t *testing.T) {
	const method = "/some.other.v1.Service/Call"
	var srv *server
	proxy := grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		return srv.streamHandler(nil, ss)
	})
	srv = start(t, setup{serverOpts: []grpc.ServerOption{proxy}})
	_, err := srv.stream(t, method, nil)
	checkRejected(t, err)
	checkDecision(t, srv, method, noValue)
	got, err := srv.stream(t, method, metadata.MD{headerName: {conformance.DaprAPIToken, token}, "x-other": {"1"}})
	if want := wantSeen(0, 1) + "|" + wantSeen(0, 1); err != nil || got != want {
		t.Errorf("proxied call with the token: %q, %v; want %q", got, err, want)
	}
	checkDecision(t, srv, method, accepted)

	plain := start(t, setup{})
	_, err = plain.unary(t, method, nil)
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("unknown method without UnknownServiceHandler: %v", err)
	}
	if d := plain.takeDecisions(); len(d) != 0 {
		t.Errorf("the verifier was asked about an unknown method: %v", d)
	}
}

// TestHandlerContext: what the interceptors hand on still works as the
// call's context (deadline, cancellation, values), for unary and stream.
func TestHandlerContext(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			v := newVerifier(t, &server{}, apptoken.WithGRPCExemptions())
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
			unary := apptokengrpc.UnaryServerInterceptor(v, mode.opts...)
			var handed context.Context
			_, err := unary(ctx, nil, &grpc.UnaryServerInfo{FullMethod: mUnary}, func(ctx context.Context, _ any) (any, error) {
				check(ctx)
				handed = ctx
				return nil, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			stream := apptokengrpc.StreamServerInterceptor(v, mode.opts...)
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
		})
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
