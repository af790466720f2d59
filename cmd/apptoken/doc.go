// Command apptoken makes, signs, deploys and audits Dapr's app API token:
// the token daprd sends to its application in the dapr-api-token header
// (or gRPC metadata key) on every call it makes.
//
//	go install github.com/apptoken-go/apptoken/cmd/apptoken@latest
//
// Its commands:
//
//	apptoken new       a random token: 32 bytes from crypto/rand, base64url (43 characters)
//	apptoken keygen    an Ed25519 or P-256 key pair (PEM), and optionally a JWK Set
//	apptoken mint      a signed token (JWT: aud, iss, iat, nbf, exp) for the jwt/ module
//	apptoken inspect   what a token read from stdin or a file is, never printing it
//	apptoken k8s       the Kubernetes Secret and Deployment patch, or a rotation's steps
//	apptoken audit     which calls a running app answers without the token, HTTP or gRPC
//
// `apptoken help <command>` describes each. The command prints a token only
// where making one is the point (new, mint, and the Secrets k8s writes),
// and takes one only from a file, stdin or an environment variable, never
// from a flag that would land in the shell's history.
//
// audit works on any app, whatever its language or library: it is a client
// that calls the app's port as an attacker would, and exits with status 1
// when a call but the exempt health checks was answered without a valid
// token.
package main
