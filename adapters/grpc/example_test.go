package apptokengrpc_test

import (
	"context"
	"fmt"
	"log"
	"net"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// A gRPC server that only daprd, which knows the app API token, can call.
// The standard health service's Check is exempt (Kubernetes probes call it
// without a token); its List is not.
func Example() {
	// An application would call apptoken.New(), which reads APP_API_TOKEN
	// (or the file named by APP_API_TOKEN_FILE), the token daprd sends.
	v, err := apptoken.New(apptoken.WithTokens("example-app-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(v)),
		grpc.ChainStreamInterceptor(apptokengrpc.StreamServerInterceptor(v)),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis := bufconn.Listen(1 << 16) // an application: net.Listen("tcp", "127.0.0.1:50051")
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	// A client, standing for daprd and for callers going around it.
	conn, err := grpc.NewClient("passthrough:///app",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx := context.Background()

	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	fmt.Println("Check, no token:", resp.GetStatus(), status.Code(err))

	_, err = client.List(ctx, &healthpb.HealthListRequest{})
	fmt.Println("List, no token:", status.Code(err), status.Convert(err).Message())

	wrong := metadata.AppendToOutgoingContext(ctx, "dapr-api-token", "guessed")
	_, err = client.List(wrong, &healthpb.HealthListRequest{})
	fmt.Println("List, wrong token:", status.Code(err))

	// What daprd sends.
	right := metadata.AppendToOutgoingContext(ctx, "dapr-api-token", "example-app-token")
	_, err = client.List(right, &healthpb.HealthListRequest{})
	fmt.Println("List, right token:", status.Code(err))

	// Output:
	// Check, no token: SERVING OK
	// List, no token: Unauthenticated missing or invalid app API token
	// List, wrong token: Unauthenticated
	// List, right token: OK
}

// Sidecars older than v1.15.13 / v1.16.2 deliver pub/sub messages, binding
// events and jobs without a token. The legacy-sidecar option exempts those
// callbacks, and nothing else; anyone who can reach the app's port can then
// call them, so keep that port reachable by the sidecar alone and drop the
// option once daprd is upgraded.
func Example_legacySidecar() {
	v, err := apptoken.New(
		apptoken.WithTokens("example-app-token"),
		apptoken.WithInsecureLegacySidecarGRPC(),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(v)))
	defer srv.Stop()

	// What the interceptors will decide for calls without a token:
	for _, m := range []string{
		"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnInvoke",
	} {
		fmt.Println(m, v.VerifyGRPC(m, nil))
	}

	// Output:
	// /dapr.proto.runtime.v1.AppCallback/OnTopicEvent exempt/exempt
	// /dapr.proto.runtime.v1.AppCallback/OnBindingEvent exempt/exempt
	// /dapr.proto.runtime.v1.AppCallback/OnInvoke missing/no_value
}
