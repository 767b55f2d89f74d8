package handshake

import (
	"testing"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// TestClientRefusesARecordSizeLimitBelow64: a server's EncryptedExtensions
// that answer the client's record_size_limit with 63 (RFC 8449 §4).
func TestClientRefusesARecordSizeLimitBelow64(t *testing.T) {
	err := forgedEncryptedExtensions(t, tls13Auth, func(c *Config) { c.RecordSizeLimit = 1000 }, func(ee *wire.EncryptedExtensions) {
		ee.Extensions = removeExtension(ee.Extensions, wire.ExtRecordSizeLimit)
		ee.Extensions.Add(wire.ExtRecordSizeLimit, wire.RecordSizeLimit(63))
	})
	wantAlertAt(t, err, alert.IllegalParameter)
}

// TestServerAnswersRecordSizeLimit: a server with no limit of its own
// answers a client's offer with the protocol's (RFC 8449 §4: "Endpoints
// SHOULD advertise the record_size_limit extension"), in
// EncryptedExtensions; a client that did not offer gets none.
func TestServerAnswersRecordSizeLimit(t *testing.T) {
	for _, offer := range []uint16{0, 1000} {
		c, s := tls13Auth.configs(t)
		c.RecordSizeLimit = offer
		cv := newConversation(t, c, s)
		next, _ := cv.runUntil(t, clientSide, 2)
		ee := new(wire.EncryptedExtensions)
		if err := ee.Unmarshal(next); err != nil {
			t.Fatal(err)
		}
		var l wire.RecordSizeLimit
		found, err := ee.Extensions.Decode(wire.ExtRecordSizeLimit, &l)
		switch {
		case err != nil:
			t.Fatal(err)
		case offer == 0 && found:
			t.Errorf("a client that offered none got record_size_limit %d", l)
		case offer != 0 && (!found || l != 1<<14+1):
			t.Errorf("a client that offered %d got %v, %d; want 16385", offer, found, l)
		}
	}
}
