//go:build !race

package apptokenfiber_test

const raceEnabled = false
