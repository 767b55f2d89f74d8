package tlsflow

import (
	"time"

	"github.com/tlsflow/tlsflow/internal/wire"
)

// AnnounceEarlyData makes a client's ClientHello carry an empty early_data
// extension, as a 0-RTT client would (RFC 8446 §4.2.10).
func AnnounceEarlyData(c *Config) {
	c.extraClientHelloExtensions = append(c.extraClientHelloExtensions, wire.Extension{Type: wire.ExtEarlyData})
}

// HandshakeTimeoutOf is the handshake bound a Config gives a side.
func HandshakeTimeoutOf(c *Config, isClient bool) time.Duration { return c.handshakeTimeout(isClient) }
