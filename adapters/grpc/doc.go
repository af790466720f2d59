// Package apptokengrpc checks the app API token that a Dapr sidecar sends
// to a gRPC application (daprd started with --app-protocol grpc), with
// server interceptors for google.golang.org/grpc.
//
//	v, err := apptoken.New() // APP_API_TOKEN_FILE, else APP_API_TOKEN
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(v)),
//		grpc.ChainStreamInterceptor(apptokengrpc.StreamServerInterceptor(v)),
//	)
//
// daprd sends the token as the metadata key dapr-api-token. A call is let
// through when any value of that key is an accepted token: daprd v1.14
// sends two values on the gRPC calls it proxies, the caller's and the
// app's, and a caller cannot produce the app's. Anything else (no value, a
// wrong one, "Bearer <token>", a value longer than apptoken.MaxTokenLength,
// more than apptoken.MaxValues values) ends with codes.Unauthenticated and
// the message apptoken.RejectionGRPCMessage, the same for every case; the
// error never holds a token. Unauthenticated, and not Unimplemented, also
// makes daprd retry a pub/sub message rather than drop it. A nil verifier
// rejects every call. [WithErrorHandler] replaces the error.
//
// The verifier decides everything; the interceptors only read the metadata
// and translate its answer. Its options therefore configure them:
// exempt methods ([apptoken.WithGRPCExemptions], by default
// [apptoken.DefaultGRPCExemptions]: the Dapr app health check,
// ListTopicSubscriptions and ListInputBindings, which daprd calls without
// a token in every version, and grpc.health.v1 Check and Watch for
// Kubernetes probes), whether the token stays visible to the handler
// ([apptoken.WithKeepHeader]), and a hook that sees every decision
// ([apptoken.WithDecisionHook]; for gRPC its method is "POST" and its path
// the full method name). Exempt methods are matched exactly, by full method
// name.
//
// After a call is let through, the handler's incoming metadata no longer
// holds dapr-api-token (unless WithKeepHeader), so that a handler cannot log
// or forward the token: metadata.FromIncomingContext and
// metadata.ValueFromIncomingContext on the handler's context, or on a
// stream's Context(), do not see it.
//
// # Sidecars older than v1.15.13 / v1.16.2
//
// daprd v1.14.x, v1.15.0 to v1.15.12 and v1.16.0 to v1.16.1 call
// OnTopicEvent, OnBulkTopicEvent*, OnBindingEvent and OnJobEvent* without a
// token. With the default exemptions such a sidecar cannot deliver pub/sub
// messages, binding events or jobs to the app: they are rejected with
// Unauthenticated and retried. [apptoken.WithInsecureLegacySidecarGRPC]
// exempts those callbacks (the list is
// [apptoken.LegacySidecarGRPCMethods]), and nothing else: OnInvoke and the
// app's own services still need the token. The risk is real: anyone who
// can reach the app's port can then inject messages, binding events and
// jobs without a token. Use it only while such a sidecar is deployed, with
// the app port reachable by its sidecar alone (listen on loopback, or a
// network policy), and upgrade daprd to v1.15.13, v1.16.2, v1.17.0 or later
// to drop it.
//
// # Cost
//
// A call that is let through costs at most one allocation more than no
// interceptor. grpc's public readers copy the metadata they return, so the
// interceptor reads grpc's incoming metadata in place, through the context
// key that grpc's own public functions use, learnt once at start-up and
// checked; should a grpc release store metadata differently, the
// interceptors fall back to the public API on their own. Removing the token
// is lazy: the handler gets a context that builds a copy of the metadata
// without the token only if something asks for the metadata. grpc's shared
// metadata is never modified.
//
// Calls to methods the server does not know end with codes.Unimplemented
// inside grpc, before any interceptor runs, unless the server has a
// grpc.UnknownServiceHandler, whose calls pass through the stream
// interceptor.
package apptokengrpc
