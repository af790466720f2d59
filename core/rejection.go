package apptoken

import "net/http"

// The rejection every adapter answers with, unless the application installs
// its own handler. It is the same for every rejecting [Decision], so it tells
// a caller nothing about what was expected.
//
// It is 401 on purpose, and an error handler that replaces it should keep
// to the same rule: daprd drops a pub/sub message answered with 404 (over
// gRPC, codes.Unimplemented), takes any 2xx as delivered, and retries on
// anything else. This is the one place the rule is written down; the
// adapters link here.
const (
	RejectionStatus      = http.StatusUnauthorized
	RejectionContentType = "application/json"
	// RejectionBody is in Dapr's error shape.
	RejectionBody = `{"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}`
	// RejectionGRPCMessage is the message of the codes.Unauthenticated status
	// that gRPC adapters answer with.
	RejectionGRPCMessage = "missing or invalid app API token"
)

// WriteRejection writes the standard rejection to a net/http response:
// [RejectionStatus], [RejectionContentType], Cache-Control: no-store and
// [RejectionBody].
func WriteRejection(w http.ResponseWriter) {
	h := w.Header()
	// Fresh slices for every response: a later middleware may edit or
	// append to what it finds in the header map.
	h["Content-Type"] = []string{RejectionContentType}
	h["Cache-Control"] = []string{"no-store"}
	w.WriteHeader(RejectionStatus)
	_, _ = w.Write(rejectionBody)
}

// rejectionBody is shared: a Writer must not change the bytes it is given.
var rejectionBody = []byte(RejectionBody)
