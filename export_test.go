package tlsflow

import (
	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/limits"
)

// SetLimitsForTest makes connections with c enforce p instead of
// limits.Default, so a test can put a limit where it is cheap to reach.
func SetLimitsForTest(c *Config, p limits.Policy) { c.sizeLimits = &p }

// Hooks into the package for its external tests (tlsflow_test).

// SetKeyUpdateAfterRecords lowers the record count after which Write
// renews a TLS 1.3 write key on its own, so a test sees it happen after a
// few records instead of 2^24. It returns the function that restores the
// old value. Tests using it must not run in parallel with other tests.
func SetKeyUpdateAfterRecords(n uint64) (restore func()) {
	old := keyUpdateAfterRecords
	keyUpdateAfterRecords = n
	return func() { keyUpdateAfterRecords = old }
}

// CompletedStateForTest returns the ConnectionState of a completed
// handshake that negotiated version and suite, with or without the
// extended master secret. Neither tlsflow nor crypto/tls can be told to
// leave the extended master secret out of a real TLS 1.2 handshake, so
// this is how a test reaches the exporter's refusal (RFC 7627 §5.4).
func CompletedStateForTest(version, suite uint16, extendedMaster bool) ConnectionState {
	s := &handshake.State{
		Version: version, CipherSuite: suite, ExtendedMaster: extendedMaster,
		ClientRandom: make([]byte, 32), ServerRandom: make([]byte, 32),
		MasterSecret: make([]byte, 48), ExporterSecret: make([]byte, 32),
	}
	return new(Conn).connectionState(s, true)
}

// HeldForTest reports what an established connection holds between
// records: record buffers (reading, writing, handshake reassembly) and
// whether it keeps a whole handshake engine after the handshake, instead of
// the small post-handshake one. Call it while no Read or Write is running
// on c.
func HeldForTest(c *Conn) (readBuf, writeBuf, handshakeBuf, engine bool) {
	c.in.Lock()
	defer c.in.Unlock()
	c.out.Lock()
	defer c.out.Unlock()
	switch c.post.(type) {
	case *handshake.Client, *handshake.Server:
		engine = true
	}
	return c.in.r.HoldsBuffer(), c.out.w.Buffered() > 0 || c.out.w.HoldsBuffer(), c.in.hs.HoldsBuffer(), engine || c.engine != nil
}
