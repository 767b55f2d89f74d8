package probe

import (
	"io"
	"net"
	"testing"

	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// readClientHello reads the first record a probe sends.
func readClientHello(c net.Conn) ([]byte, error) {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return nil, err
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	_, err := io.ReadFull(c, body)
	return body, err
}

// serverHello12 is a TLS 1.2 ServerHello choosing ECDHE_RSA with AES-128-GCM.
func serverHello12(t *testing.T) []byte {
	sh := &wire.ServerHello{Version: versionTLS12, SessionID: []byte{}, CipherSuite: 0xc02f, Extensions: wire.Extensions{}}
	msg, err := sh.Marshal()
	if err != nil {
		t.Error(err)
	}
	return msg
}

// writeRecords writes payload as plaintext handshake records.
func writeRecords(c net.Conn, payload []byte) error {
	w := record.NewWriter(c)
	if err := w.WriteRecord(record.Handshake, payload); err != nil {
		return err
	}
	return w.Flush()
}
