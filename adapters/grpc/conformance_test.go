package apptokengrpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
	"github.com/apptoken-go/apptoken/core/conformance"
	"github.com/apptoken-go/apptoken/jwt/jwttest"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
)

// notApplicable says why a case of the HTTP behaviour table has no gRPC
// counterpart, or "" when it applies. A case applies when it is about the
// token's values: every gRPC call is a POST to a full method name, so the
// HTTP method, the path, the query string and the HTTP exemptions do not
// translate. gRPC exemptions, matched on the full method name, have their
// own tests with the same kinds of near misses (TestExemptMethods).
func notApplicable(c conformance.Case) string {
	switch {
	case c.Method != http.MethodPost && c.Method != http.MethodGet:
		return "about the HTTP method; every gRPC call is a POST"
	case strings.Contains(c.Target, "?"):
		return "about the query string, which gRPC calls do not have"
	case c.Target != "/orders":
		return "about the path and HTTP exemptions; gRPC exempts full method names (TestExemptMethods), and unknown methods have TestUnknownServiceHandler"
	case strings.Contains(c.Name, "exemption"):
		return "an HTTP exemption; gRPC exemptions are tested by TestExemptionOptions"
	case len(c.Trailers) > 0:
		return "about trailer fields; grpc-go ends the connection when a client sends a second HEADERS frame on a stream, so a call's metadata is its head alone"
	}
	return ""
}

// grpcDiffers holds the cases that apply but come out differently on gRPC,
// with the outcome the verifier must report there, and why.
var grpcDiffers = map[string]struct {
	want     int
	decision apptoken.Decision
	why      string
}{
	"spaces around the token": {http.StatusUnauthorized, apptoken.Mismatch,
		"HTTP/1.1 servers strip the spaces around a field value; HTTP/2 forbids them (RFC 9113, 8.2.1) and grpc hands the value on as received, so the value is not the token"},
	"blank value": {http.StatusUnauthorized, apptoken.Mismatch,
		"HTTP/1.1 servers strip the blank value to an empty one (missing); grpc hands on the spaces, a value that is not the token"},
}

// TestConformance runs the cases of the core's behaviour table that apply
// to gRPC, each against a fresh grpc.Server with the interceptors. The
// request is written as raw HTTP/2 frames, so that values which grpc's own
// client refuses to send (control and non-ASCII bytes) reach the server as
// given. Header names are sent in lower case: HTTP/2 requires it, and
// grpc's clients lower-case metadata keys themselves.
func TestConformance(t *testing.T) { runConformance(t, conformance.Plain) }

func TestConformanceSigned(t *testing.T) { runConformance(t, jwttest.Mode(t)) }

func runConformance(t *testing.T, m conformance.Mode) {
	ran := 0
	for _, c := range m.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if why := notApplicable(c); why != "" {
				t.Skip("does not apply to gRPC: " + why)
			}
			if d, ok := grpcDiffers[c.Name]; ok {
				t.Log("differs on gRPC: " + d.why)
				c.Want, c.Decision = d.want, d.decision
			}
			ran++
			runConformanceCase(t, m, c)
		})
	}
	if ran < 30 {
		t.Errorf("only %d cases of the behaviour table ran", ran)
	}
	for name := range grpcDiffers {
		found := false
		for _, c := range conformance.Cases() {
			found = found || c.Name == name
		}
		if !found {
			t.Errorf("grpcDiffers names %q, which the table no longer has", name)
		}
	}
}

func runConformanceCase(t *testing.T, m conformance.Mode, c conformance.Case) {
	srv := start(t, setup{verifierOpts: append(slices.Clone(m.Options), c.Options...)})
	var fields []hpack.HeaderField
	for _, h := range c.Headers {
		fields = append(fields, hpack.HeaderField{Name: strings.ToLower(h.Name), Value: h.Value})
	}
	res, err := srv.h2call(t, mOnInvoke, fields)
	got := srv.takeDecisions()
	if bytes.Contains(res.body, []byte(m.Token)) || strings.Contains(res.message, m.Token) {
		t.Error("the answer holds the token")
	}
	switch {
	case c.Malformed && (err != nil || res.reset):
		// grpc's HTTP/2 layer refused the request before any interceptor.
		t.Logf("refused by grpc's transport: reset %v, %v", res.reset, err)
		if len(got) != 0 {
			t.Errorf("refused, but only after the verifier decided %v", got)
		}
	case err != nil:
		t.Fatalf("call: %v", err)
	case res.reset:
		t.Fatalf("stream reset by the server (%v)", res.resetCode)
	default:
		want := codes.OK
		if c.Want != http.StatusOK {
			want = codes.Unauthenticated
		}
		if res.code != want {
			t.Fatalf("status %v %q, want %v", res.code, res.message, want)
		}
		if want == codes.Unauthenticated && res.message != apptoken.RejectionGRPCMessage {
			t.Errorf("message %q, want %q", res.message, apptoken.RejectionGRPCMessage)
		}
		if want == codes.OK {
			if w := wantSeen(c.Seen, 0); string(res.body) != w {
				t.Errorf("handler answered %q, want %q", res.body, w)
			}
		}
		if c.Decision != 0 && (len(got) != 1 || !m.Agrees(c.Decision, got[0].d)) {
			t.Errorf("decisions %v, want one %v", got, c.Decision)
		}
	}

	// The server lives on and still tells right from wrong.
	if res, err := srv.h2call(t, mOnInvoke, []hpack.HeaderField{{Name: headerName, Value: m.Token}}); err != nil || res.code != codes.OK {
		t.Fatalf("the server no longer accepts a valid call: %+v, %v", res, err)
	}
	if res, err := srv.h2call(t, mOnInvoke, nil); err != nil || res.code != codes.Unauthenticated {
		t.Fatalf("the server no longer rejects a call without token: %+v, %v", res, err)
	}
}

type h2result struct {
	code      codes.Code
	message   string
	body      []byte // the first response message, without its 5-byte prefix
	reset     bool
	resetCode http2.ErrCode
}

// h2call makes one unary call to method with the raw codec, written as
// raw HTTP/2 frames on a new connection, with fields added to the request
// headers exactly as given.
func (srv *server) h2call(t testing.TB, method string, fields []hpack.HeaderField) (h2result, error) {
	t.Helper()
	var res h2result
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := srv.lis.DialContext(ctx)
	if err != nil {
		return res, err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		return res, err
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		return res, err
	}

	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range append([]hpack.HeaderField{
		{Name: ":method", Value: "POST"},
		{Name: ":scheme", Value: "http"},
		{Name: ":path", Value: method},
		{Name: ":authority", Value: "bufnet"},
		{Name: "content-type", Value: "application/grpc+" + rawSubtype},
		{Name: "te", Value: "trailers"},
	}, fields...) {
		if err := enc.WriteField(f); err != nil {
			return res, err
		}
	}
	// Writing happens in the background: the server may answer, or reset
	// the stream, before it has read a large header block.
	var wmu sync.Mutex // a Framer's writes must not overlap
	werr := make(chan error, 1)
	go func() {
		wmu.Lock()
		defer wmu.Unlock()
		werr <- writeRequest(fr, block.Bytes(), []byte("ping"))
	}()
	reply := func(write func() error) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = write()
	}

	headers := map[string]string{}
	for done := false; !done; {
		f, err := fr.ReadFrame()
		if err != nil {
			if we := <-werr; we != nil {
				return res, fmt.Errorf("write: %w; read: %w", we, err)
			}
			return res, err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				reply(fr.WriteSettingsAck)
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				data := f.Data
				reply(func() error { return fr.WritePing(true, data) })
			}
		case *http2.MetaHeadersFrame:
			for _, hf := range f.Fields {
				headers[hf.Name] = hf.Value
			}
			done = f.StreamEnded()
		case *http2.DataFrame:
			if res.body == nil && len(f.Data()) >= 5 {
				n := binary.BigEndian.Uint32(f.Data()[1:5])
				res.body = append([]byte{}, f.Data()[5:min(len(f.Data()), 5+int(n))]...)
			}
			done = f.StreamEnded()
		case *http2.RSTStreamFrame:
			res.reset, res.resetCode = true, f.ErrCode
			return res, nil
		case *http2.GoAwayFrame:
			return res, fmt.Errorf("GOAWAY %v", f.ErrCode)
		}
	}
	code, err := strconv.Atoi(headers["grpc-status"])
	if err != nil {
		return res, errors.New("no grpc-status in the answer")
	}
	res.code, res.message = codes.Code(code), headers["grpc-message"]
	return res, nil
}

// writeRequest writes a header block, split into frames of the default
// maximum size, and one gRPC message ending the stream.
func writeRequest(fr *http2.Framer, block, msg []byte) error {
	const maxFrame = 16384
	first := true
	for first || len(block) > 0 {
		n := min(len(block), maxFrame)
		frag, end := block[:n], n == len(block)
		var err error
		if first {
			err = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: frag, EndHeaders: end})
		} else {
			err = fr.WriteContinuation(1, end, frag)
		}
		if err != nil {
			return err
		}
		block, first = block[n:], false
	}
	data := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(data[1:5], uint32(len(msg)))
	copy(data[5:], msg)
	return fr.WriteData(1, true, data)
}
