package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// grpcConfig is what a gRPC audit probes.
type grpcConfig struct {
	addr    string
	methods []string // -path values: full method names
	timeout time.Duration
}

// Dapr's AppCallback services, as daprd calls them.
const (
	appCallback      = "/dapr.proto.runtime.v1.AppCallback/"
	appCallbackAlpha = "/dapr.proto.runtime.v1.AppCallbackAlpha/"
	appHealthCheck   = "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck"
	grpcHealthCheck  = "/grpc.health.v1.Health/Check"
)

// grpcTargets are the methods probed. The exempt ones are those daprd
// calls without a token in every version, and the standard health check
// Kubernetes probes call.
func grpcTargets() []target {
	return []target{
		{Call: appCallback + "OnInvoke", Why: "Dapr: service invocation"},
		{Call: appCallback + "OnTopicEvent", Why: "Dapr: pub/sub delivery"},
		{Call: appCallback + "OnBulkTopicEvent", Why: "Dapr: bulk pub/sub"},
		{Call: appCallbackAlpha + "OnBulkTopicEventAlpha1", Why: "Dapr: bulk pub/sub"},
		{Call: appCallback + "OnBindingEvent", Why: "Dapr: input binding"},
		{Call: appCallback + "OnJobEvent", Why: "Dapr: job trigger"},
		{Call: appCallbackAlpha + "OnJobEventAlpha1", Why: "Dapr: job trigger"},
		{Call: "/" + auditName + ".v1.Audit/NoSuchMethod", Why: "a method no app serves"},
		{Call: appCallback + "ListTopicSubscriptions", Why: "exempt: daprd sends no token", exempt: true, variants: noToken},
		{Call: appCallback + "ListInputBindings", Why: "exempt: daprd sends no token", exempt: true, variants: noToken},
		{Call: appHealthCheck, Why: "exempt: daprd's health probe", exempt: true, variants: noToken},
		{Call: grpcHealthCheck, Why: "exempt: health probe", exempt: true, variants: noToken},
		{Call: appCallback + "listtopicsubscriptions", Why: "exempt method, respelled", variants: noToken},
		{Call: "/dapr.proto.runtime.v1.AppCallbackHealthCheckX/HealthCheck", Why: "exempt method, respelled", variants: noToken},
		{Call: appHealthCheck + "/", Why: "exempt method, respelled", variants: noToken},
	}
}

// grpcVariants are the ways of (not) presenting a token in metadata, whose
// keys gRPC sends in lower case only.
func grpcVariants(wrong string) []variant {
	k := headerName
	return []variant{
		{"no token", nil},
		{"empty", [][2]string{{k, ""}}},
		{"wrong", [][2]string{{k, wrong}}},
		{"Bearer", [][2]string{{k, "Bearer " + wrong}}},
		{"authorization", [][2]string{{"authorization", "Bearer " + wrong}}},
		{"dapr_api_token", [][2]string{{strings.ReplaceAll(k, "-", "_"), wrong}}},
		{"two values", [][2]string{{k, ""}, {k, wrong}}},
	}
}

func auditGRPC(ctx context.Context, c grpcConfig, prog *progress) (*report, error) {
	targets := grpcTargets()
	for _, m := range c.methods {
		if !strings.HasPrefix(m, "/") || strings.Count(m, "/") != 2 || strings.HasSuffix(m, "/") || strings.ContainsAny(m, " \t\r\n") {
			return nil, usageError("audit", "-path %q: with -grpc, give a full method name such as /orders.v1.Orders/Create", m)
		}
		targets = append(targets, target{Call: m, Why: "-path"})
	}
	conn, err := grpc.NewClient(c.addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})),
	)
	if err != nil {
		return nil, fmt.Errorf("-grpc %s: %w", c.addr, err)
	}
	defer func() { _ = conn.Close() }()

	send := func(ctx context.Context, t target, v variant) (string, bool, error) {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		for _, f := range v.fields {
			ctx = metadata.AppendToOutgoingContext(ctx, f[0], f[1])
		}
		in, out := []byte{}, []byte(nil)
		err := conn.Invoke(ctx, t.Call, &in, &out)
		code := status.Code(err)
		switch code {
		case codes.Unavailable, codes.DeadlineExceeded:
			return "", false, fmt.Errorf("%s: %s", code, status.Convert(err).Message())
		}
		return code.String(), code != codes.Unauthenticated && code != codes.PermissionDenied, nil
	}
	results, err := runTargets(ctx, targets, grpcVariants(newToken()), prog, send)
	if err != nil {
		return nil, err
	}
	rep := &report{Target: c.addr, Protocol: "grpc", Results: results}
	rep.count()
	return rep, nil
}

// rawCodec sends and receives messages as the bytes they are, so that the
// audit needs none of Dapr's generated types: an empty message is zero
// bytes in protobuf. It keeps the name "proto", the content-subtype daprd
// and every Dapr app use.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot send a %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot receive into a %T", v)
	}
	*b = data.Materialize()
	return nil
}
