package apptoken

import "net/http"

// The rejection every adapter answers with, unless the application installs
// its own handler. It is the same for a missing and a wrong token, so it
// tells a caller nothing about what was expected. 401, not 404, because
// daprd drops a pub/sub message on 404 and retries on any other error;
// never 2xx, which daprd takes as success.
const (
	RejectionStatus      = http.StatusUnauthorized
	RejectionContentType = "application/json"
	// RejectionBody is in Dapr's error shape.
	RejectionBody = `{"errorCode":"ERR_APP_API_TOKEN","message":"missing or invalid app API token"}`
	// RejectionGRPCMessage is the message of the codes.Unauthenticated status
	// that gRPC adapters answer with.
	RejectionGRPCMessage = "missing or invalid app API token"
)

var rejectionBody = []byte(RejectionBody)

// WriteRejection writes the standard rejection to a net/http response.
func WriteRejection(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = rejectionContentType
	h["Cache-Control"] = rejectionCacheControl
	w.WriteHeader(RejectionStatus)
	_, _ = w.Write(rejectionBody)
}

var (
	rejectionContentType  = []string{RejectionContentType}
	rejectionCacheControl = []string{"no-store"}
)
