//go:build race

package tlsflow_test

// raceEnabled: the race detector makes sync.Pool drop a share of what is
// put back, so pooled buffers are allocated again more often.
const raceEnabled = true
