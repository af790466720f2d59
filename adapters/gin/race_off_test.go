//go:build !race

package apptokengin_test

const raceEnabled = false
