// Package apptokengrpc provides gRPC server interceptors that check the app
// API token a Dapr sidecar (daprd) sends to a gRPC application (daprd
// --app-protocol grpc).
//
//	v, err := apptoken.New() // APP_API_TOKEN, or the file named by APP_API_TOKEN_FILE
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(v)),
//		grpc.ChainStreamInterceptor(apptokengrpc.StreamServerInterceptor(v)),
//		grpc.UnknownServiceHandler(apptokengrpc.UnknownServiceHandler),
//	)
//
// With go-grpc-middleware v2, give [AuthFunc] to its auth interceptors
// instead.
//
// The interceptors only translate: they read every value of the metadata
// key dapr-api-token with metadata.ValueFromIncomingContext, ask
// [apptoken.Verifier.VerifyGRPC], and end a rejected call with
// codes.Unauthenticated and [apptoken.RejectionGRPCMessage], the same for
// every rejection ([WithErrorHandler] replaces it). Which methods are
// exempt, whether the handler may see the token and what the decision hook
// is told are options of the verifier: see [apptoken.WithGRPCExemptions],
// [apptoken.WithKeepHeader], [apptoken.WithDecisionHook], and, for daprd
// older than v1.15.13 or v1.16.2, [apptoken.WithInsecureLegacySidecarGRPC].
//
// An accepted call reaches its handler with a copy of the incoming metadata
// without dapr-api-token, in a new context (for a stream, a wrapped stream
// whose Context returns it), so that handlers cannot log or forward the
// token; that copy is what accepting a call costs over reading the token.
package apptokengrpc
