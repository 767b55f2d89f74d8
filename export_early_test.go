package tlsflow

import (
	"time"

	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// AnnounceEarlyData makes a client's ClientHello carry an empty early_data
// extension, as a 0-RTT client would (RFC 8446 §4.2.10).
func AnnounceEarlyData(c *Config) {
	c.extraClientHelloExtensions = append(c.extraClientHelloExtensions, wire.Extension{Type: wire.ExtEarlyData})
}

// HandshakeTimeoutOf is the handshake bound a Config gives a side.
func HandshakeTimeoutOf(c *Config, isClient bool) time.Duration { return c.handshakeTimeout(isClient) }

// AddClientHelloExtension appends an extension to a client's ClientHello.
func AddClientHelloExtension(c *Config, typ uint16, data []byte) {
	c.extraClientHelloExtensions = append(c.extraClientHelloExtensions, wire.Extension{Type: wire.ExtensionType(typ), Data: data})
}

// SendAlert writes an alert record on an established connection.
func SendAlert(c *Conn, level, desc uint8) error {
	c.out.Lock()
	defer c.out.Unlock()
	if err := c.out.w.WriteRecord(record.Alert, []byte{level, desc}); err != nil {
		return err
	}
	return c.out.w.Flush()
}

// SendHandshakeRecord writes a handshake record on an established connection.
func SendHandshakeRecord(c *Conn, msg []byte) error {
	c.out.Lock()
	defer c.out.Unlock()
	if err := c.out.w.WriteRecord(record.Handshake, msg); err != nil {
		return err
	}
	return c.out.w.Flush()
}

// SendEmptyRecords writes n empty application_data records, protected
// with c's current write key, on an established connection (Write never
// sends an empty record).
func SendEmptyRecords(c *Conn, n int) error {
	c.out.Lock()
	defer c.out.Unlock()
	for range n {
		rec, err := c.out.cipher.Seal(nil, record.ApplicationData, 0x0303, nil)
		if err != nil {
			return err
		}
		if _, err := c.conn.Write(rec); err != nil {
			return err
		}
	}
	return nil
}
