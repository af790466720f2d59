// Package e2e is the end-to-end suite: the example apps behind real daprd
// binaries (v1.14.4 and v1.18.0), started as processes on loopback.
//
// The tests need the daprd binaries' paths in DAPRD_1_14 and DAPRD_1_18
// (scripts/e2e.sh sets them from scripts/daprd.sh); without them they skip.
// This module does not depend on the Dapr runtime: it drives daprd over its
// HTTP API and plain gRPC.
package e2e
