package apptokengrpc_test

import (
	"context"
	"fmt"
	"log"
	"net"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// serveExample serves srv on an in-memory listener (an application
// listens with net.Listen("tcp", "127.0.0.1:50051")) and returns a client
// connection, standing for daprd and for callers going around it, and a
// function that stops both.
func serveExample(srv *grpc.Server) (*grpc.ClientConn, func()) {
	lis := bufconn.Listen(1 << 16)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///app",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	return conn, func() {
		_ = conn.Close()
		srv.Stop()
	}
}

// withToken is a client's context carrying token as daprd sends it.
func withToken(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "dapr-api-token", token)
}

// A gRPC server that only daprd, which knows the app API token, can call.
// The standard health service's Check is exempt (Kubernetes probes call it
// without a token); its List is not.
func ExampleUnaryServerInterceptor() {
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
	conn, stop := serveExample(srv)
	defer stop()
	client := healthpb.NewHealthClient(conn)
	ctx := context.Background()

	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	fmt.Println("Check, no token:", resp.GetStatus(), status.Code(err))

	_, err = client.List(ctx, &healthpb.HealthListRequest{})
	fmt.Println("List, no token:", status.Code(err), status.Convert(err).Message())

	_, err = client.List(withToken("guessed"), &healthpb.HealthListRequest{})
	fmt.Println("List, wrong token:", status.Code(err))

	_, err = client.List(withToken("example-app-token"), &healthpb.HealthListRequest{})
	fmt.Println("List, right token:", status.Code(err))

	// Output:
	// Check, no token: SERVING OK
	// List, no token: Unauthenticated missing or invalid app API token
	// List, wrong token: Unauthenticated
	// List, right token: OK
}

// The stream interceptor checks streaming calls, here the health service's
// Watch, made to need the token by dropping the default exemptions.
func ExampleStreamServerInterceptor() {
	v, err := apptoken.New(apptoken.WithTokens("example-app-token"), apptoken.WithoutDefaultExemptions())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	srv := grpc.NewServer(grpc.ChainStreamInterceptor(apptokengrpc.StreamServerInterceptor(v)))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	conn, stop := serveExample(srv)
	defer stop()
	defer hs.Shutdown() // ends the Watch stream
	client := healthpb.NewHealthClient(conn)

	for _, token := range []string{"guessed", "example-app-token"} {
		watch, err := client.Watch(withToken(token), &healthpb.HealthCheckRequest{})
		if err != nil {
			log.Fatal(err)
		}
		resp, err := watch.Recv() // the interceptor's answer comes with the first message
		if err != nil {
			fmt.Printf("Watch with %s: %v\n", token, status.Code(err))
			continue
		}
		fmt.Printf("Watch with %s: %v\n", token, resp.GetStatus())
	}

	// Output:
	// Watch with guessed: Unauthenticated
	// Watch with example-app-token: SERVING
}

// With go-grpc-middleware v2, AuthFunc is the check for its auth
// interceptors, which its selector interceptor can put in front of some
// methods only.
func ExampleAuthFunc() {
	v, err := apptoken.New(apptoken.WithTokens("example-app-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	check := apptokengrpc.AuthFunc(v)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(auth.UnaryServerInterceptor(check)),
		grpc.ChainStreamInterceptor(auth.StreamServerInterceptor(check)),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	conn, stop := serveExample(srv)
	defer stop()
	client := healthpb.NewHealthClient(conn)

	_, err = client.Check(context.Background(), &healthpb.HealthCheckRequest{})
	fmt.Println("Check, no token:", status.Code(err))
	_, err = client.List(context.Background(), &healthpb.HealthListRequest{})
	fmt.Println("List, no token:", status.Code(err))
	_, err = client.List(withToken("example-app-token"), &healthpb.HealthListRequest{})
	fmt.Println("List, right token:", status.Code(err))

	// Output:
	// Check, no token: OK
	// List, no token: Unauthenticated
	// List, right token: OK
}

// An error handler sees every rejection's method and decision, never the
// token: here it logs them and leaves the answer to the default.
func ExampleWithErrorHandler() {
	v, err := apptoken.New(apptoken.WithTokens("example-app-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	onReject := apptokengrpc.WithErrorHandler(func(_ context.Context, fullMethod string, d apptoken.Decision) error {
		fmt.Println("rejected:", fullMethod, d)
		return nil // the default error; or a status, never codes.OK or codes.Unimplemented
	})
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(v, onReject)))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	conn, stop := serveExample(srv)
	defer stop()
	client := healthpb.NewHealthClient(conn)

	_, err = client.List(context.Background(), &healthpb.HealthListRequest{})
	fmt.Println("answer:", status.Code(err))
	_, err = client.List(withToken("guessed"), &healthpb.HealthListRequest{})
	fmt.Println("answer:", status.Code(err))

	// Output:
	// rejected: /grpc.health.v1.Health/List missing
	// answer: Unauthenticated
	// rejected: /grpc.health.v1.Health/List mismatch
	// answer: Unauthenticated
}

// Without UnknownServiceHandler, grpc answers a call to a method it does
// not serve with Unimplemented, naming it, to anyone. With it and the
// stream interceptor, only a caller with the token learns that the method
// does not exist.
func ExampleUnknownServiceHandler() {
	v, err := apptoken.New(apptoken.WithTokens("example-app-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(v)),
		grpc.ChainStreamInterceptor(apptokengrpc.StreamServerInterceptor(v)),
		grpc.UnknownServiceHandler(apptokengrpc.UnknownServiceHandler),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	conn, stop := serveExample(srv)
	defer stop()

	// A service the server does not have, and a method of one it has.
	for _, method := range []string{"/orders.v1.Admin/Export", "/grpc.health.v1.Health/Export"} {
		for _, token := range []string{"guessed", "example-app-token"} {
			err := conn.Invoke(withToken(token), method, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
			st := status.Convert(err)
			fmt.Printf("%s with %s: %v %q\n", method, token, st.Code(), st.Message())
		}
	}

	// Output:
	// /orders.v1.Admin/Export with guessed: Unauthenticated "missing or invalid app API token"
	// /orders.v1.Admin/Export with example-app-token: Unimplemented "unknown method /orders.v1.Admin/Export"
	// /grpc.health.v1.Health/Export with guessed: Unauthenticated "missing or invalid app API token"
	// /grpc.health.v1.Health/Export with example-app-token: Unimplemented "unknown method /grpc.health.v1.Health/Export"
}

// Sidecars older than v1.15.13 / v1.16.2 deliver pub/sub messages, binding
// events and jobs without a token. The legacy-sidecar option exempts those
// callbacks, and nothing else; see apptoken.WithInsecureLegacySidecarGRPC
// for the risk.
func Example_legacySidecar() {
	v, err := apptoken.New(
		apptoken.WithTokens("example-app-token"),
		apptoken.WithInsecureLegacySidecarGRPC(),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	// What the interceptors decide for calls without a token:
	for _, m := range []string{
		"/dapr.proto.runtime.v1.AppCallback/OnTopicEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnBindingEvent",
		"/dapr.proto.runtime.v1.AppCallback/OnInvoke",
	} {
		fmt.Println(m, v.VerifyGRPC(m, nil))
	}

	// Output:
	// /dapr.proto.runtime.v1.AppCallback/OnTopicEvent exempt
	// /dapr.proto.runtime.v1.AppCallback/OnBindingEvent exempt
	// /dapr.proto.runtime.v1.AppCallback/OnInvoke missing
}
