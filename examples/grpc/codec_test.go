package main

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// cat joins byte strings: tags and lengths as bytes, contents as strings.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		case int:
			b = append(b, byte(p))
		}
	}
	return b
}

// Golden encodings, written from the field numbers and types in Dapr's
// common.proto and appcallback.proto. A tag byte is field<<3 | wire type
// (0 varint, 2 length-delimited): 0x0a is field 1 bytes, 0x08 field 1
// varint, 0x12 field 2 bytes, 0x10 field 2 varint, 0x1a field 3, 0x22
// field 4, 0x2a field 5, 0x32 field 6, 0x3a field 7, 0x42 field 8, 0x4a
// field 9, 0x52 field 10.
var golden = []struct {
	name string
	msg  message
	wire []byte
}{
	{"Empty", &emptyMsg{}, nil},
	{"Any", &anyMsg{TypeURL: "t/x", Value: []byte(`{"id":1}`)},
		cat(0x0a, 3, "t/x", 0x12, 8, `{"id":1}`)},
	{"InvokeRequest", &invokeRequest{
		Method:      "neworder",
		Data:        &anyMsg{Value: []byte(`{"id":1}`)},
		ContentType: "application/json",
		HTTPVerb:    3, // POST
		QueryString: "a=1",
		hasHTTP:     true,
	}, cat(
		0x0a, 8, "neworder", // method = 1
		0x12, 10, 0x12, 8, `{"id":1}`, // data = 2: Any{value = 2}
		0x1a, 16, "application/json", // content_type = 3
		0x22, 7, 0x08, 3, 0x12, 3, "a=1", // http_extension = 4: {verb = 1: POST, querystring = 2}
	)},
	{"InvokeRequest, gRPC caller (no HTTP extension)", &invokeRequest{Method: "m", Data: &anyMsg{}},
		cat(0x0a, 1, "m", 0x12, 0)},
	{"InvokeResponse", &invokeResponse{
		Data:        &anyMsg{TypeURL: "t/x", Value: []byte(`{"id":1}`)},
		ContentType: "application/json",
	}, cat(
		0x0a, 15, 0x0a, 3, "t/x", 0x12, 8, `{"id":1}`, // data = 1
		0x12, 16, "application/json", // content_type = 2
	)},
	{"TopicEventRequest", &topicEventRequest{
		ID: "1", Source: "orders", Type: "com.dapr.event.sent", SpecVersion: "1.0",
		DataContentType: "application/json", Topic: "orders", Data: []byte(`{"id":1}`),
		PubsubName: "pubsub", Path: "/orders",
	}, cat(
		0x0a, 1, "1", 0x12, 6, "orders", 0x1a, 19, "com.dapr.event.sent", 0x22, 3, "1.0",
		0x2a, 16, "application/json", 0x32, 6, "orders", 0x3a, 8, `{"id":1}`,
		0x42, 6, "pubsub", 0x4a, 7, "/orders",
	)},
	{"TopicEventResponse SUCCESS", &topicEventResponse{Status: topicSuccess}, nil},
	{"TopicEventResponse RETRY", &topicEventResponse{Status: topicRetry}, cat(0x08, 1)},
	{"TopicEventResponse DROP", &topicEventResponse{Status: topicDrop}, cat(0x08, 2)},
	// A negative int32 or enum is sign-extended to 64 bits: ten bytes.
	{"TopicEventResponse, negative", &topicEventResponse{Status: -1},
		cat(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
	{"ListTopicSubscriptionsResponse", &listTopicSubscriptionsResponse{Subscriptions: []topicSubscription{
		{PubsubName: "pubsub", Topic: "orders"},
	}}, cat(0x0a, 16, 0x0a, 6, "pubsub", 0x12, 6, "orders")},
	{"ListInputBindingsResponse, none", &listInputBindingsResponse{}, nil},
	{"ListInputBindingsResponse", &listInputBindingsResponse{Bindings: []string{"cron", "kafka"}},
		cat(0x0a, 4, "cron", 0x0a, 5, "kafka")},
	{"BindingEventRequest", &bindingEventRequest{Name: "cron", Data: []byte("x"), Metadata: map[string]string{"k": "v"}},
		cat(0x0a, 4, "cron", 0x12, 1, "x", 0x1a, 6, 0x0a, 1, "k", 0x12, 1, "v")},
	{"Stats", &statsResponse{Orders: 3, Events: 300},
		cat(0x08, 3, 0x10, 0xac, 0x02)}, // 300 = 0b10_0101100: 0xac 0x02
	{"Stats, extremes", &statsResponse{Orders: math.MaxInt64, Events: math.MinInt64},
		cat(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
			0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)},
}

func TestGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			if got := g.msg.appendTo(nil); !bytes.Equal(got, g.wire) {
				t.Errorf("encoded\n got %x\nwant %x", got, g.wire)
			}
			fresh, ok := reflect.New(reflect.TypeOf(g.msg).Elem()).Interface().(message)
			if !ok {
				t.Fatalf("a new %T is not a message", g.msg)
			}
			if err := fresh.decode(g.wire); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(fresh, g.msg) {
				t.Errorf("decoded %+v, want %+v", fresh, g.msg)
			}
		})
	}
}

// TestDecodeSkipsUnknown: fields this app does not know (TopicEventRequest
// extensions, a google.protobuf.Struct; fields a newer daprd may add, of
// every wire type) are skipped.
func TestDecodeSkipsUnknown(t *testing.T) {
	ext, err := structpb.NewStruct(map[string]any{"traceid": "abc", "n": 1.0})
	if err != nil {
		t.Fatal(err)
	}
	extBytes, err := proto.Marshal(ext)
	if err != nil {
		t.Fatal(err)
	}
	wire := cat(
		0x0a, 1, "1",
		0x52, len(extBytes), extBytes, // extensions = 10
		0x98, 0x06, 0x05, // field 99, varint 5
		0x9d, 0x06, 1, 2, 3, 4, // field 99, fixed32
		0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, // field 99, fixed64
		0x32, 6, "orders",
	)
	var m topicEventRequest
	if err := m.decode(wire); err != nil {
		t.Fatal(err)
	}
	if m.ID != "1" || m.Topic != "orders" {
		t.Errorf("decoded %+v", m)
	}
	// A known field number with another wire type is ignored too.
	var s statsResponse
	if err := s.decode(cat(0x0a, 1, "x", 0x10, 7)); err != nil || s.Orders != 0 || s.Events != 7 {
		t.Errorf("decoded %+v, %v", s, err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, b := range [][]byte{
		cat(0x0a, 5, "ab"),       // length past the end
		cat(0x08),                // tag without value
		cat(0x08, 0x80),          // unfinished varint
		cat(0x12, 3, 0x0a, 9, 1), // data: an Any whose type_url is cut short
		cat(0x22, 6, 0x08, 0x80, 0x80, 0x80, 0x80, 0x08), // http_extension: verb 1<<31, past the int32 range
	} {
		if err := new(invokeRequest).decode(b); err == nil {
			t.Errorf("%x decoded without error", b)
		}
	}
}

// TestWellKnownTypes holds the hand-written Any and Empty to the
// protobuf runtime's own encoding of google.protobuf.Any and Empty.
func TestWellKnownTypes(t *testing.T) {
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(&anypb.Any{TypeUrl: "t/x", Value: []byte{0, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if got := (&anyMsg{TypeURL: "t/x", Value: []byte{0, 1, 2}}).appendTo(nil); !bytes.Equal(got, want) {
		t.Errorf("Any: %x, protobuf %x", got, want)
	}
	empty, _ := proto.Marshal(&emptypb.Empty{})
	if got := (emptyMsg{}).appendTo(nil); !bytes.Equal(got, empty) {
		t.Errorf("Empty: %x, protobuf %x", got, empty)
	}
}

// TestCodec: the server codec encodes this package's messages itself and
// hands the others to grpc's protobuf codec.
func TestCodec(t *testing.T) {
	c := newCodec()
	if c.Name() != "proto" {
		t.Errorf("name %q", c.Name())
	}
	data, err := c.Marshal(&statsResponse{Orders: 1})
	if err != nil || !bytes.Equal(data.Materialize(), cat(0x08, 1)) {
		t.Errorf("own message: %x, %v", data.Materialize(), err)
	}
	var s statsResponse
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(cat(0x10, 2))}, &s); err != nil || s.Events != 2 {
		t.Errorf("own message decoded %+v, %v", s, err)
	}
	data, err = c.Marshal(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING})
	if err != nil || !bytes.Equal(data.Materialize(), cat(0x08, 1)) {
		t.Errorf("health message: %x, %v", data.Materialize(), err)
	}
	var h healthpb.HealthCheckRequest
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(cat(0x0a, 1, "x"))}, &h); err != nil || h.GetService() != "x" {
		t.Errorf("health message decoded %v, %v", &h, err)
	}
}
