//go:build !race

package apptokenchi_test

const raceEnabled = false
