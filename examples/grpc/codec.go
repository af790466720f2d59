package main

import (
	"fmt"
	"math"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// message is one of the hand-written protobuf messages below. Field numbers
// are those of Dapr's dapr/proto/common/v1/common.proto and
// dapr/proto/runtime/v1/appcallback.proto (the same in v1.14.4 and
// v1.18.0). Decoding skips fields it does not know, as protobuf does, so a
// newer daprd's additions do no harm; encoding leaves out zero values, as
// proto3 does.
type message interface {
	appendTo(b []byte) []byte
	decode(b []byte) error
}

// codec encodes the messages of this package itself and hands anything
// else (the grpc.health.v1 messages) to grpc's protobuf codec. It is the
// server's codec, under the name "proto", the content-subtype daprd uses.
type codec struct{ proto encoding.CodecV2 }

func newCodec() codec { return codec{proto: encoding.GetCodecV2("proto")} }

func (codec) Name() string { return "proto" }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(message); ok {
		return mem.BufferSlice{mem.SliceBuffer(m.appendTo(nil))}, nil
	}
	return c.proto.Marshal(v)
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(message); ok {
		return m.decode(data.Materialize())
	}
	return c.proto.Unmarshal(data, v)
}

// emptyMsg is google.protobuf.Empty, and every message without fields
// (HealthCheckResponse, BindingEventResponse as this app answers it).
type emptyMsg struct{}

func (emptyMsg) appendTo(b []byte) []byte { return b }
func (*emptyMsg) decode(b []byte) error   { return eachField(b, nil) }

// anyMsg is google.protobuf.Any: type_url = 1, value = 2.
type anyMsg struct {
	TypeURL string
	Value   []byte
}

func (m *anyMsg) appendTo(b []byte) []byte {
	b = appendString(b, 1, m.TypeURL)
	return appendBytes(b, 2, m.Value)
}

func (m *anyMsg) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		switch f.num {
		case 1:
			m.TypeURL = f.string()
		case 2:
			m.Value = f.bytes()
		}
		return nil
	})
}

// invokeRequest is dapr.proto.common.v1.InvokeRequest: method = 1,
// google.protobuf.Any data = 2, content_type = 3, HTTPExtension
// http_extension = 4 (verb = 1, an enum; querystring = 2).
type invokeRequest struct {
	Method      string
	Data        *anyMsg
	ContentType string
	HTTPVerb    int32 // HTTPExtension.Verb: 0 NONE, 1 GET, 2 HEAD, 3 POST, ...
	QueryString string
	hasHTTP     bool
}

func (m *invokeRequest) appendTo(b []byte) []byte {
	b = appendString(b, 1, m.Method)
	if m.Data != nil {
		b = appendMessage(b, 2, m.Data)
	}
	b = appendString(b, 3, m.ContentType)
	if m.hasHTTP || m.HTTPVerb != 0 || m.QueryString != "" {
		ext := appendInt32(nil, 1, m.HTTPVerb)
		ext = appendString(ext, 2, m.QueryString)
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, ext)
	}
	return b
}

func (m *invokeRequest) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		switch f.num {
		case 1:
			m.Method = f.string()
		case 2:
			if m.Data == nil {
				m.Data = new(anyMsg)
			}
			return f.message(m.Data)
		case 3:
			m.ContentType = f.string()
		case 4:
			m.hasHTTP = true
			return eachField(f.bytes(), func(g *field) error {
				var err error
				switch g.num {
				case 1:
					m.HTTPVerb, err = g.int32()
				case 2:
					m.QueryString = g.string()
				}
				return err
			})
		}
		return nil
	})
}

// invokeResponse is dapr.proto.common.v1.InvokeResponse:
// google.protobuf.Any data = 1, content_type = 2.
type invokeResponse struct {
	Data        *anyMsg
	ContentType string
}

func (m *invokeResponse) appendTo(b []byte) []byte {
	if m.Data != nil {
		b = appendMessage(b, 1, m.Data)
	}
	return appendString(b, 2, m.ContentType)
}

func (m *invokeResponse) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		switch f.num {
		case 1:
			if m.Data == nil {
				m.Data = new(anyMsg)
			}
			return f.message(m.Data)
		case 2:
			m.ContentType = f.string()
		}
		return nil
	})
}

// topicEventRequest is dapr.proto.runtime.v1.TopicEventRequest: id = 1,
// source = 2, type = 3, spec_version = 4, data_content_type = 5, topic = 6,
// data = 7, pubsub_name = 8, path = 9. Its extensions (10, a
// google.protobuf.Struct) are skipped.
type topicEventRequest struct {
	ID, Source, Type, SpecVersion, DataContentType string
	Topic                                          string
	Data                                           []byte
	PubsubName, Path                               string
}

func (m *topicEventRequest) appendTo(b []byte) []byte {
	b = appendString(b, 1, m.ID)
	b = appendString(b, 2, m.Source)
	b = appendString(b, 3, m.Type)
	b = appendString(b, 4, m.SpecVersion)
	b = appendString(b, 5, m.DataContentType)
	b = appendString(b, 6, m.Topic)
	b = appendBytes(b, 7, m.Data)
	b = appendString(b, 8, m.PubsubName)
	return appendString(b, 9, m.Path)
}

func (m *topicEventRequest) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		switch f.num {
		case 1:
			m.ID = f.string()
		case 2:
			m.Source = f.string()
		case 3:
			m.Type = f.string()
		case 4:
			m.SpecVersion = f.string()
		case 5:
			m.DataContentType = f.string()
		case 6:
			m.Topic = f.string()
		case 7:
			m.Data = f.bytes()
		case 8:
			m.PubsubName = f.string()
		case 9:
			m.Path = f.string()
		}
		return nil
	})
}

// The values of TopicEventResponse.TopicEventResponseStatus.
const (
	topicSuccess int32 = 0
	topicRetry   int32 = 1
	topicDrop    int32 = 2
)

// topicEventResponse is dapr.proto.runtime.v1.TopicEventResponse:
// status = 1, an enum (SUCCESS = 0, RETRY = 1, DROP = 2).
type topicEventResponse struct{ Status int32 }

func (m *topicEventResponse) appendTo(b []byte) []byte {
	return appendInt32(b, 1, m.Status)
}

func (m *topicEventResponse) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		var err error
		if f.num == 1 {
			m.Status, err = f.int32()
		}
		return err
	})
}

// topicSubscription is dapr.proto.runtime.v1.TopicSubscription:
// pubsub_name = 1, topic = 2 (metadata = 3, routes = 5,
// dead_letter_topic = 6 and bulk_subscribe = 7 are not used).
type topicSubscription struct{ PubsubName, Topic string }

func (m *topicSubscription) appendTo(b []byte) []byte {
	b = appendString(b, 1, m.PubsubName)
	return appendString(b, 2, m.Topic)
}

func (m *topicSubscription) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		switch f.num {
		case 1:
			m.PubsubName = f.string()
		case 2:
			m.Topic = f.string()
		}
		return nil
	})
}

// listTopicSubscriptionsResponse is
// dapr.proto.runtime.v1.ListTopicSubscriptionsResponse: repeated
// TopicSubscription subscriptions = 1.
type listTopicSubscriptionsResponse struct{ Subscriptions []topicSubscription }

func (m *listTopicSubscriptionsResponse) appendTo(b []byte) []byte {
	for i := range m.Subscriptions {
		b = appendMessage(b, 1, &m.Subscriptions[i])
	}
	return b
}

func (m *listTopicSubscriptionsResponse) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		if f.num != 1 {
			return nil
		}
		var s topicSubscription
		if err := f.message(&s); err != nil {
			return err
		}
		m.Subscriptions = append(m.Subscriptions, s)
		return nil
	})
}

// listInputBindingsResponse is
// dapr.proto.runtime.v1.ListInputBindingsResponse: repeated string
// bindings = 1.
type listInputBindingsResponse struct{ Bindings []string }

func (m *listInputBindingsResponse) appendTo(b []byte) []byte {
	for _, s := range m.Bindings {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	return b
}

func (m *listInputBindingsResponse) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		if f.num == 1 {
			m.Bindings = append(m.Bindings, f.string())
		}
		return nil
	})
}

// bindingEventRequest is dapr.proto.runtime.v1.BindingEventRequest:
// name = 1, data = 2, map<string,string> metadata = 3 (each entry a
// message with key = 1, value = 2).
type bindingEventRequest struct {
	Name     string
	Data     []byte
	Metadata map[string]string
}

func (m *bindingEventRequest) appendTo(b []byte) []byte {
	b = appendString(b, 1, m.Name)
	b = appendBytes(b, 2, m.Data)
	for k, v := range m.Metadata {
		entry := appendString(nil, 1, k)
		entry = appendString(entry, 2, v)
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, entry)
	}
	return b
}

func (m *bindingEventRequest) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		switch f.num {
		case 1:
			m.Name = f.string()
		case 2:
			m.Data = f.bytes()
		case 3:
			var k, v string
			err := eachField(f.bytes(), func(g *field) error {
				switch g.num {
				case 1:
					k = g.string()
				case 2:
					v = g.string()
				}
				return nil
			})
			if err != nil {
				return err
			}
			if m.Metadata == nil {
				m.Metadata = map[string]string{}
			}
			m.Metadata[k] = v
		}
		return nil
	})
}

// statsResponse is orders.v1.StatsResponse, this app's own message:
// int64 orders = 1, int64 events = 2, int64 bindings = 3.
type statsResponse struct{ Orders, Events, Bindings int64 }

func (m *statsResponse) appendTo(b []byte) []byte {
	b = appendInt64(b, 1, m.Orders)
	b = appendInt64(b, 2, m.Events)
	return appendInt64(b, 3, m.Bindings)
}

func (m *statsResponse) decode(b []byte) error {
	return eachField(b, func(f *field) error {
		switch f.num {
		case 1:
			m.Orders = f.int64()
		case 2:
			m.Events = f.int64()
		case 3:
			m.Bindings = f.int64()
		}
		return nil
	})
}

// Encoding helpers. Zero values are left out, as proto3 does.

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendInt64 appends an int64 field. protobuf writes an int64 as the
// varint of its 64 bits in two's complement, so a negative value takes ten
// bytes; [field.int64] reads it back.
func appendInt64(b []byte, num protowire.Number, v int64) []byte {
	return appendVarint(b, num, uint64(v)) //nolint:gosec // G115: the same 64 bits, as protobuf encodes an int64; int64(uint64(v)) == v for every v, nothing is lost
}

// appendInt32 appends an int32 or enum field: protobuf sign-extends it to
// 64 bits, so it is written as the int64 of the same value.
func appendInt32(b []byte, num protowire.Number, v int32) []byte {
	return appendInt64(b, num, int64(v))
}

// appendMessage appends m as a length-delimited field, even when empty:
// a set message field is present on the wire.
func appendMessage(b []byte, num protowire.Number, m message) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m.appendTo(nil))
}

// Decoding helpers.

// field is one field read from the wire. Its accessors return the zero
// value when the wire type is not the one asked for, so a field whose type
// does not match is ignored.
type field struct {
	num protowire.Number
	typ protowire.Type
	raw []byte // the value: the varint's bytes, or a length-delimited field's contents
	v   uint64
}

func (f *field) string() string {
	if f.typ != protowire.BytesType {
		return ""
	}
	return string(f.raw)
}

func (f *field) bytes() []byte {
	if f.typ != protowire.BytesType {
		return nil
	}
	return append([]byte(nil), f.raw...)
}

func (f *field) varint() uint64 {
	if f.typ != protowire.VarintType {
		return 0
	}
	return f.v
}

// int64 is the value of an int64 field, the inverse of [appendInt64].
func (f *field) int64() int64 {
	return int64(f.varint()) //nolint:gosec // G115: the varint holds the int64's 64 bits in two's complement; uint64(int64(x)) == x for every x, nothing is lost
}

// int32 is the value of an int32 or enum field, which protobuf writes
// sign-extended to 64 bits (see [appendInt32]). A value outside the int32
// range is an error, rather than truncated as protobuf's own decoders do:
// no encoder writes one for these fields.
func (f *field) int32() (int32, error) {
	v := f.int64()
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("protobuf: field %d: %d is out of the int32 range", f.num, v)
	}
	return int32(v), nil
}

func (f *field) message(m message) error {
	if f.typ != protowire.BytesType {
		return nil
	}
	return m.decode(f.raw)
}

// eachField calls fn with every field of the encoded message b, in order;
// fn may be nil to only check that b is well formed.
func eachField(b []byte, fn func(*field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("protobuf: %w", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.raw, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("protobuf: field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if fn != nil {
			if err := fn(&f); err != nil {
				return err
			}
		}
	}
	return nil
}
