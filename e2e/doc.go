// Package e2e is the end-to-end suite: the example apps behind real daprd
// binaries (v1.14.4 and v1.18.0, and with `make compat` v1.15.4, v1.16.0
// and v1.16.5 too), started as processes on loopback.
//
// The tests need the daprd binaries' paths in DAPRD_1_14 and DAPRD_1_18
// (scripts/e2e.sh sets them from scripts/daprd.sh); without them they skip.
// DAPRD_MORE adds versions as VERSION=BINARY pairs (scripts/compat.sh sets
// it), and APPTOKEN_COMPAT_TABLE names a file the run writes its
// compatibility table to (README.md's, see scripts/compat.sh). This module
// does not depend on the Dapr runtime: it drives daprd over its HTTP API
// and plain gRPC.
package e2e
