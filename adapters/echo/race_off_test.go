//go:build !race

package apptokenecho_test

const raceEnabled = false
