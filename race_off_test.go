//go:build !race

package tlsflow_test

// raceEnabled: see race_on_test.go.
const raceEnabled = false
