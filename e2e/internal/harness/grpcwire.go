package harness

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"
)

// The suite speaks gRPC without generated code: requests are encoded by hand
// with protowire, sent and received as raw bytes. That keeps the Dapr runtime
// (and its protobuf types) out of this module, and it is all the few calls
// below need.

// rawCodec passes bytes through. It is registered under the name "proto",
// so the wire content type is application/grpc+proto, as with generated code.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case *[]byte:
		return *x, nil
	default:
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	*p = append((*p)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// DialGRPC opens a plaintext client connection to a loopback address.
func DialGRPC(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// InvokeRaw calls a unary method with an encoded request and returns the
// encoded response. md is sent as outgoing metadata (several values per key
// allowed).
func InvokeRaw(ctx context.Context, conn *grpc.ClientConn, fullMethod string, req []byte, md metadata.MD) ([]byte, error) {
	if md != nil {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	var resp []byte
	err := conn.Invoke(ctx, fullMethod, req, &resp, grpc.ForceCodec(rawCodec{}))
	return resp, err
}

// Msg builds a protobuf message field by field.
type Msg []byte

// String appends a string field.
func (m Msg) String(num protowire.Number, s string) Msg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendString(m, s)
}

// Bytes appends a bytes field (or an embedded message).
func (m Msg) Bytes(num protowire.Number, b []byte) Msg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

// Varint appends a varint field (integers, bools, enums).
func (m Msg) Varint(num protowire.Number, v uint64) Msg {
	m = protowire.AppendTag(m, num, protowire.VarintType)
	return protowire.AppendVarint(m, v)
}

// Fields decodes one level of a protobuf message: for each field number, the
// varint values and the length-delimited values, in order.
type Fields struct {
	Varints map[protowire.Number][]uint64
	Bytes   map[protowire.Number][][]byte
}

// Decode parses b into Fields.
func Decode(b []byte) (Fields, error) {
	f := Fields{Varints: map[protowire.Number][]uint64{}, Bytes: map[protowire.Number][][]byte{}}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return f, protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return f, protowire.ParseError(n)
			}
			f.Varints[num] = append(f.Varints[num], v)
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return f, protowire.ParseError(n)
			}
			f.Bytes[num] = append(f.Bytes[num], v)
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return f, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return f, nil
}

// Varint returns the last value of a varint field, or 0.
func (f Fields) Varint(num protowire.Number) uint64 {
	vs := f.Varints[num]
	if len(vs) == 0 {
		return 0
	}
	return vs[len(vs)-1]
}

// Str returns the last value of a string field, or "".
func (f Fields) Str(num protowire.Number) string {
	vs := f.Bytes[num]
	if len(vs) == 0 {
		return ""
	}
	return string(vs[len(vs)-1])
}

// Full method names of the Dapr app callback services the suite calls
// directly, and the field numbers of their messages (dapr/proto/common/v1 and
// dapr/proto/runtime/v1 in the Dapr repository).
const (
	MethodOnInvoke     = "/dapr.proto.runtime.v1.AppCallback/OnInvoke"
	MethodOnTopicEvent = "/dapr.proto.runtime.v1.AppCallback/OnTopicEvent"
	MethodListTopics   = "/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions"
	MethodHealthCheck  = "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck"
	MethodListBindings = "/dapr.proto.runtime.v1.AppCallback/ListInputBindings"
	MethodOnBinding    = "/dapr.proto.runtime.v1.AppCallback/OnBindingEvent"
)

// InvokeRequest encodes a dapr.proto.common.v1.InvokeRequest
// {method=1, data=2 (google.protobuf.Any{type_url=1, value=2}), content_type=3}.
func InvokeRequest(method, contentType string, data []byte) []byte {
	anyMsg := Msg(nil).Bytes(2, data)
	return Msg(nil).String(1, method).Bytes(2, anyMsg).String(3, contentType)
}

// InvokeResponseData decodes a dapr.proto.common.v1.InvokeResponse
// {data=1 (Any), content_type=2} into its data and content type.
func InvokeResponseData(b []byte) (data []byte, contentType string, err error) {
	f, err := Decode(b)
	if err != nil {
		return nil, "", err
	}
	if anys := f.Bytes[1]; len(anys) > 0 {
		a, err := Decode(anys[len(anys)-1])
		if err != nil {
			return nil, "", err
		}
		if vs := a.Bytes[2]; len(vs) > 0 {
			data = vs[len(vs)-1]
		}
	}
	return data, f.Str(2), nil
}

// TopicEventRequest encodes a dapr.proto.runtime.v1.TopicEventRequest
// {id=1, source=2, type=3, spec_version=4, data_content_type=5, topic=6,
// data=7, pubsub_name=8, path=9}.
func TopicEventRequest(id, pubsub, topic string, data []byte) []byte {
	return Msg(nil).
		String(1, id).String(2, "e2e").String(3, "com.dapr.event.sent").String(4, "1.0").
		String(5, "application/json").String(6, topic).Bytes(7, data).String(8, pubsub).String(9, "")
}

// BindingEventRequest encodes a dapr.proto.runtime.v1.BindingEventRequest
// {name=1, data=2, metadata=3}, without metadata.
func BindingEventRequest(name string, data []byte) []byte {
	return Msg(nil).String(1, name).Bytes(2, data)
}

// ListInputBindingsNames decodes a dapr.proto.runtime.v1.ListInputBindingsResponse
// {repeated string bindings = 1}.
func ListInputBindingsNames(b []byte) ([]string, error) {
	f, err := Decode(b)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, v := range f.Bytes[1] {
		names = append(names, string(v))
	}
	return names, nil
}

// RawCodec returns the pass-through codec, for servers that handle raw bytes.
func RawCodec() encoding.Codec { return rawCodec{} }
