package handshake

import (
	"errors"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// The client's checks of a server's answer to 0-RTT (RFC 8446 §4.2.10),
// with a hostile server's EncryptedExtensions fed to the real client
// engine in the middle of a real resumption.

// forgedEncryptedExtensions plays v's resumption up to the client's
// EncryptedExtensions, changes it with change, and returns what the
// client makes of it.
func forgedEncryptedExtensions(t *testing.T, v variant, cli func(*Config), change func(*wire.EncryptedExtensions)) error {
	t.Helper()
	c, s := v.configs(t)
	if cli != nil {
		cli(c)
	}
	cv := newConversation(t, c, s)
	next, ok := cv.runUntil(t, clientSide, 2) // ServerHello, ChangeCipherSpec
	if !ok {
		t.Fatal("no EncryptedExtensions for the client")
	}
	ee := new(wire.EncryptedExtensions)
	if err := ee.Unmarshal(next); err != nil {
		t.Fatalf("the client's third input is not EncryptedExtensions: %v", err)
	}
	change(ee)
	_, err := feed(cv.client, input(must(ee.Marshal())))
	return err
}

func wantAlertAt(t *testing.T, err error, want alert.Alert) {
	t.Helper()
	var ae *alert.Error
	if !errors.As(err, &ae) || ae.Alert != want || ae.Message != "EncryptedExtensions" {
		t.Fatalf("the client answered %v; want %s at EncryptedExtensions", err, want)
	}
}

// TestClientRefusesEarlyDataAcceptedThatItDidNotSend: a server that
// accepts early data the client never offered: an extension not asked
// for is unsupported_extension (RFC 8446 §4.2).
func TestClientRefusesEarlyDataAcceptedThatItDidNotSend(t *testing.T) {
	err := forgedEncryptedExtensions(t, tls13Resumed, nil, func(ee *wire.EncryptedExtensions) {
		ee.Extensions.AddEmpty(wire.ExtEarlyData)
	})
	wantAlertAt(t, err, alert.UnsupportedExtension)
}

// TestClientRefusesEarlyDataAcceptedUnderAnotherALPN: the session had no
// ALPN protocol; a server that accepts the early data but selects "h2"
// would have the client's early bytes read as another protocol's.
func TestClientRefusesEarlyDataAcceptedUnderAnotherALPN(t *testing.T) {
	err := forgedEncryptedExtensions(t, tls13EarlyData, func(c *Config) { c.NextProtos = []string{"h2", "http/1.1"} },
		func(ee *wire.EncryptedExtensions) {
			ee.Extensions.Add(wire.ExtALPN, &wire.ALPN{"h2"})
		})
	wantAlertAt(t, err, alert.IllegalParameter)
}

// TestClientTakesARejectionOfItsEarlyData: the same resumption with the
// server's early_data removed goes on; the client's state says rejected.
func TestClientTakesARejectionOfItsEarlyData(t *testing.T) {
	c, s := tls13EarlyData.configs(t)
	cv := newConversation(t, c, s)
	next, _ := cv.runUntil(t, clientSide, 2)
	ee := new(wire.EncryptedExtensions)
	if err := ee.Unmarshal(next); err != nil || !ee.Extensions.Has(wire.ExtEarlyData) {
		t.Fatalf("EncryptedExtensions %v, early_data %v", err, ee.Extensions.Has(wire.ExtEarlyData))
	}
	ee.Extensions = removeExtension(ee.Extensions, wire.ExtEarlyData)
	actions, err := feed(cv.client, input(must(ee.Marshal())))
	if err != nil {
		t.Fatal(err)
	}
	switched := false
	for _, a := range actions {
		if _, ok := a.(SetWriteCipher); ok {
			switched = true
		}
	}
	if !switched || cv.client.State().EarlyDataAccepted || !cv.client.c13.early.rejected {
		t.Fatalf("write key switched %v, accepted %v; want the handshake key now and a rejection", switched, cv.client.State().EarlyDataAccepted)
	}
}

// TestClientRefusesEarlyDataAcceptedUnderAnotherSuite: the session was
// made with AES-128-GCM; a server that resumes it (a suite of the same
// hash may do) under ChaCha20-Poly1305 and accepts the early data would
// read it with keys of another suite (RFC 8446 §4.2.10).
func TestClientRefusesEarlyDataAcceptedUnderAnotherSuite(t *testing.T) {
	c, s := tls13EarlyData.configs(t)
	c.CipherSuites = []uint16{suites.TLS_AES_128_GCM_SHA256, suites.TLS_CHACHA20_POLY1305_SHA256}
	s.CipherSuites = []uint16{suites.TLS_CHACHA20_POLY1305_SHA256}
	cv := newConversation(t, c, s)
	next, ok := cv.runUntil(t, clientSide, 2)
	if !ok {
		t.Fatal("no EncryptedExtensions")
	}
	ee := new(wire.EncryptedExtensions)
	if err := ee.Unmarshal(next); err != nil {
		t.Fatal(err)
	}
	if !ee.Extensions.Has(wire.ExtEarlyData) {
		ee.Extensions.AddEmpty(wire.ExtEarlyData) // the server's acceptance, forged if it did not
	}
	_, err := feed(cv.client, input(must(ee.Marshal())))
	wantAlertAt(t, err, alert.IllegalParameter)
}

// TestClientRefusesTLS12AfterEarlyData: a client that sent 0-RTT data
// gets a TLS 1.2 ServerHello (RFC 8446 Appendix D.3).
func TestClientRefusesTLS12AfterEarlyData(t *testing.T) {
	c, _ := tls13EarlyData.configs(t)
	c.MinVersion = suites.VersionTLS12
	cv := newConversation(t, c, nil)
	if cv.client.c13.early == nil {
		t.Fatal("the client did not offer early data")
	}
	sh := &wire.ServerHello{Version: suites.VersionTLS12, SessionID: cv.client.hello.SessionID, CipherSuite: suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	_, err := feed(cv.client, input(must(sh.Marshal())))
	var ae *alert.Error
	if !errors.As(err, &ae) || ae.Alert != alert.ProtocolVersion || ae.Message != "ServerHello" {
		t.Fatalf("the client answered %v; want protocol_version at ServerHello", err)
	}
}
