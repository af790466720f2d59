// Command orders is an example gRPC application for Dapr that lets through
// only the calls of its own sidecar: every call must carry the app API
// token that daprd sends as the metadata key dapr-api-token, checked by the
// interceptors of github.com/apptoken-go/apptoken/adapters/grpc.
//
// From the repository root:
//
//	APP_API_TOKEN=<token> go run ./examples/grpc
//
// and the sidecar, given the same token:
//
//	APP_API_TOKEN=<token> daprd --app-id orders --app-protocol grpc --app-port 50051 ...
//
// The token is read as apptoken.New reads it: from the file named by
// APP_API_TOKEN_FILE (reloaded when it changes), else from APP_API_TOKEN.
// Without one the app exits with an error naming the variable. It listens
// on 127.0.0.1:$APP_PORT (default 50051), logs rejected calls (method and
// reason, never a token; at most 10 a minute, then one line counting the
// rest), and stops gracefully on SIGINT or SIGTERM. With METRICS_PORT set,
// it serves the verifier's metrics in the Prometheus text format at
// http://127.0.0.1:$METRICS_PORT/metrics, on a listener of their own: a
// scraper carries no token, and the app port stays fully protected.
//
// It serves:
//   - dapr.proto.runtime.v1.AppCallback: OnInvoke (each call is an order;
//     the answer echoes the request's data and content type),
//     ListTopicSubscriptions (one subscription: pubsub "pubsub", topic
//     "orders"), OnTopicEvent (each message is counted and answered
//     SUCCESS), ListInputBindings (one input binding: "cron") and
//     OnBindingEvent (each event is counted);
//   - dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck, for
//     daprd's --enable-app-health-check;
//   - the standard grpc.health.v1.Health service, for Kubernetes probes;
//   - orders.v1.Orders/Stats, the app's own service: request
//     google.protobuf.Empty, answer with int64 orders = 1, int64
//     events = 2 and int64 bindings = 3, the three counters. Tests read
//     the counters with it, and call it through daprd's gRPC proxying (a
//     call to daprd's gRPC port with the metadata dapr-app-id: orders),
//     which daprd forwards to the app with the token.
//
// HealthCheck, ListTopicSubscriptions, ListInputBindings and
// grpc.health.v1 Check and Watch answer without a token: daprd calls the
// first three without one in every version. Everything else needs it,
// methods the app does not serve included: without the token they answer
// Unauthenticated like the others, with it Unimplemented, so that callers
// going around the sidecar cannot find out which methods exist.
//
// # Sidecars older than v1.15.13 / v1.16.2
//
// daprd v1.14.x, v1.15.0 to v1.15.12 and v1.16.0 to v1.16.1 deliver
// pub/sub messages and binding events without a token, so this app rejects
// them (Unauthenticated: daprd retries) unless started with
// -legacy-sidecar or APPTOKEN_LEGACY_SIDECAR=1, which exempts those
// callbacks, and logs a warning: anyone who can reach the app port can
// then inject messages. Turn it off once daprd is upgraded.
//
// # Why the protobuf messages are hand-written
//
// The app needs ten small messages of Dapr's protocol (InvokeRequest and
// InvokeResponse with their google.protobuf.Any, TopicEventRequest and
// TopicEventResponse, ListTopicSubscriptionsResponse and
// TopicSubscription, ListInputBindingsResponse, BindingEventRequest,
// HealthCheckResponse, google.protobuf.Empty), and few fields of each.
// Their generated Go types live in the Dapr runtime module
// (github.com/dapr/dapr), which would pull the whole runtime's dependency
// graph, hundreds of modules with replace directives, into a small
// example; the Dapr Go SDK brings its own runtime and checks of its own.
// So this package encodes them itself with
// google.golang.org/protobuf/encoding/protowire (already a dependency of
// grpc), registers its services with hand-written grpc.ServiceDesc, and
// uses a server codec that encodes its own messages and hands the
// grpc.health.v1 messages to grpc's protobuf codec. Field numbers are those
// of Dapr's dapr/proto/common/v1/common.proto and
// dapr/proto/runtime/v1/appcallback.proto, unchanged from v1.14.4 to
// v1.18.0, and the tests hold the encoding to golden bytes derived from
// them. Unknown fields are skipped, as protobuf does.
package main
