//go:build race

package apptokengrpc_test

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = true
