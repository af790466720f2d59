package main

import (
	"context"
	"log/slog"
	"sync/atomic"

	apptokengrpc "github.com/apptoken-go/apptoken/adapters/grpc"
	apptoken "github.com/apptoken-go/apptoken/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// The services this app serves, as Dapr's protos and this app name them.
const (
	appCallbackService = "dapr.proto.runtime.v1.AppCallback"
	appHealthService   = "dapr.proto.runtime.v1.AppCallbackHealthCheck"
	ordersService      = "orders.v1.Orders"

	// The one subscription the app asks daprd for.
	subscribedPubsub = "pubsub"
	subscribedTopic  = "orders"
	// The one input binding it takes events from.
	inputBinding = "cron"
)

// app is the "orders" application: it counts the orders it is sent by
// service invocation, the events it receives by pub/sub and the events of
// its input binding.
type app struct {
	orders   atomic.Int64
	events   atomic.Int64
	bindings atomic.Int64
	log      *slog.Logger
}

// newServer returns the app's gRPC server: the Dapr callbacks, the
// standard health service and the app's own Orders service, every call
// checked by the apptoken interceptors built on v. Calls to methods it
// does not serve go through the stream interceptor to
// apptokengrpc.UnknownServiceHandler, so that a caller without the token
// cannot tell them from the others. The health server is returned so that
// shutting down can mark it NOT_SERVING.
func newServer(v *apptoken.Verifier, a *app) (*grpc.Server, *health.Server) {
	srv := grpc.NewServer(
		grpc.ForceServerCodecV2(newCodec()),
		grpc.ChainUnaryInterceptor(apptokengrpc.UnaryServerInterceptor(v)),
		grpc.ChainStreamInterceptor(apptokengrpc.StreamServerInterceptor(v)),
		grpc.UnknownServiceHandler(apptokengrpc.UnknownServiceHandler),
	)
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: appCallbackService,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			method(appCallbackService, "OnInvoke", a.onInvoke),
			method(appCallbackService, "ListTopicSubscriptions", a.listTopicSubscriptions),
			method(appCallbackService, "OnTopicEvent", a.onTopicEvent),
			method(appCallbackService, "ListInputBindings", a.listInputBindings),
			method(appCallbackService, "OnBindingEvent", a.onBindingEvent),
		},
	}, a)
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: appHealthService,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{method(appHealthService, "HealthCheck", a.healthCheck)},
	}, a)
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: ordersService,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{method(ordersService, "Stats", a.stats)},
	}, a)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	return srv, hs
}

// method makes the grpc.MethodDesc of a unary method whose request is a
// *Req, decoded by the server's codec, and runs h behind the interceptors.
func method[Req any, PReq interface {
	*Req
	message
}](service, name string, h func(context.Context, PReq) (message, error)) grpc.MethodDesc {
	info := &grpc.UnaryServerInfo{FullMethod: "/" + service + "/" + name}
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			req := PReq(new(Req))
			if err := dec(req); err != nil {
				return nil, err
			}
			if ic == nil {
				return h(ctx, req)
			}
			info := *info
			info.Server = srv
			return ic(ctx, req, &info, func(ctx context.Context, req any) (any, error) {
				// An interceptor may hand on a request of its own making.
				r, ok := req.(PReq)
				if !ok {
					return nil, status.Errorf(codes.Internal, "%s: an interceptor passed on a %T request, not a %T", info.FullMethod, req, r)
				}
				return h(ctx, r)
			})
		},
	}
}

// onInvoke answers a service invocation: each call is one order, and the
// answer echoes the request's data and content type.
func (a *app) onInvoke(_ context.Context, req *invokeRequest) (message, error) {
	n := a.orders.Add(1)
	a.log.Info("order received", "method", req.Method, "orders", n)
	return &invokeResponse{Data: req.Data, ContentType: req.ContentType}, nil
}

func (a *app) listTopicSubscriptions(context.Context, *emptyMsg) (message, error) {
	return &listTopicSubscriptionsResponse{Subscriptions: []topicSubscription{
		{PubsubName: subscribedPubsub, Topic: subscribedTopic},
	}}, nil
}

// onTopicEvent takes a pub/sub message: it is counted and acknowledged
// with SUCCESS.
func (a *app) onTopicEvent(_ context.Context, req *topicEventRequest) (message, error) {
	n := a.events.Add(1)
	a.log.Info("event received", "pubsub", req.PubsubName, "topic", req.Topic, "id", req.ID, "events", n)
	return &topicEventResponse{Status: topicSuccess}, nil
}

// listInputBindings names the input bindings daprd is to deliver to the
// app: daprd reads the others without telling the app.
func (a *app) listInputBindings(context.Context, *emptyMsg) (message, error) {
	return &listInputBindingsResponse{Bindings: []string{inputBinding}}, nil
}

// onBindingEvent takes an input binding's event: it is counted and
// answered with an empty BindingEventResponse (nothing to store, nothing
// to send on).
func (a *app) onBindingEvent(_ context.Context, req *bindingEventRequest) (message, error) {
	n := a.bindings.Add(1)
	a.log.Info("binding event received", "binding", req.Name, "bindings", n)
	return &emptyMsg{}, nil
}

func (a *app) healthCheck(context.Context, *emptyMsg) (message, error) {
	return &emptyMsg{}, nil
}

// stats answers /orders.v1.Orders/Stats with the three counters.
func (a *app) stats(context.Context, *emptyMsg) (message, error) {
	return &statsResponse{Orders: a.orders.Load(), Events: a.events.Load(), Bindings: a.bindings.Load()}, nil
}
