//go:build !race

package apptokenfiberv3_test

const raceEnabled = false
