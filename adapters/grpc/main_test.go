package apptokengrpc_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind (a server,
// a stream, a verifier's reloader).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
