//go:build !race

package apptokengrpc_test

const raceEnabled = false
