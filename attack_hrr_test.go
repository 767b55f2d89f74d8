package tlsflow_test

import (
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Attacks on the second ClientHello: after a HelloRetryRequest the client
// must send "the same ClientHello" with only the changes RFC 8446 §4.1.2
// lists: key_share for the group asked for, early_data removed, the
// cookie echoed, pre_shared_key updated, padding changed. Anything else
// lets a client negotiate against two different hellos.

// unknownExtension is an extension type no one has registered.
const unknownExtension wire.ExtensionType = 0x7a7a

// retryOptions make a hostile TLS 1.3 client that sends no key share, so
// the tlsflow server asks again (for x25519).
func retryOptions() *testpeer.ClientOptions {
	return &testpeer.ClientOptions{ServerName: "localhost", KeyShares: []uint16{}}
}

// TestServerRefusesAnInconsistentSecondClientHello: every change to the
// second ClientHello that RFC 8446 §4.1.2 does not allow is answered with
// illegal_parameter; one that drops supported_versions must not take the
// server on with TLS 1.3 (nor down to TLS 1.2).
func TestServerRefusesAnInconsistentSecondClientHello(t *testing.T) {
	cases := []struct {
		name   string
		first  func(ch *wire.ClientHello) // the first ClientHello, if it needs something
		second func(ch *wire.ClientHello)
	}{
		{"server_name changed", nil, func(ch *wire.ClientHello) {
			testpeer.SetExtension(ch, wire.ExtServerName, wire.ServerName{HostName: "other.example"})
		}},
		{"supported_versions dropped", nil, func(ch *wire.ClientHello) {
			testpeer.RemoveExtension(ch, wire.ExtSupportedVersions)
		}},
		{"early_data added", nil, func(ch *wire.ClientHello) {
			testpeer.SetExtension(ch, wire.ExtEarlyData, wire.EarlyDataIndication{})
		}},
		{"legacy_compression_methods changed", nil, func(ch *wire.ClientHello) {
			ch.CompressionMethods = []uint8{0, 1}
		}},
		{"cipher_suites changed", nil, func(ch *wire.ClientHello) {
			ch.CipherSuites = append(ch.CipherSuites[:len(ch.CipherSuites):len(ch.CipherSuites)], suites.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
		}},
		{"an extension added", nil, func(ch *wire.ClientHello) {
			testpeer.SetExtension(ch, unknownExtension, rawData{1})
		}},
		{"an extension removed", func(ch *wire.ClientHello) {
			testpeer.SetExtension(ch, unknownExtension, rawData{1})
		}, func(ch *wire.ClientHello) {
			testpeer.RemoveExtension(ch, unknownExtension)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, done := hostileClient(t, tlsflowServerConfig(0), nil)
			o := retryOptions()
			o.SecondHello = c.second
			if c.first != nil {
				o.Mutate = testpeer.MutateType(c.first)
			}
			flowErr := p.ClientHandshake13(o)
			if p.HelloRetry == nil {
				t.Fatalf("no HelloRetryRequest (%v, server: %v)", flowErr, victimErr(t, done))
			}
			wantVictimAlert(t, "server", done, sent(alert.IllegalParameter, anyStep, ""))
			wantPeerAlert(t, p, flowErr, alert.IllegalParameter)
		})
	}
}

// rawData is extension data as it goes on the wire.
type rawData []byte

func (r rawData) Marshal() ([]byte, error) { return r, nil }

// TestServerAcceptsTheAllowedChangesToTheSecondClientHello: the changes
// RFC 8446 §4.1.2 allows still work: the key share for the group asked
// for and the cookie echoed (every retry), early_data removed, padding
// changed, pre_shared_key updated.
func TestServerAcceptsTheAllowedChangesToTheSecondClientHello(t *testing.T) {
	cfg := tlsflowServerConfig(0)
	// A ticket for the pre_shared_key case.
	p, done := hostileClient(t, cfg, handshakeAndWrite)
	err := p.ClientHandshake13(&testpeer.ClientOptions{ServerName: "localhost"})
	if err == nil {
		_, err = p.ReadApplicationData()
	}
	if verr := victimErr(t, done); err != nil || verr != nil || len(p.Tickets13) == 0 {
		t.Fatalf("getting a ticket: %v (server: %v)", err, verr)
	}
	ticket := p.Tickets13[0]

	cases := []struct {
		name   string
		first  func(ch *wire.ClientHello)
		second func(ch *wire.ClientHello)
		psk    bool
	}{
		{"key_share and cookie only", nil, nil, false},
		{"early_data removed", func(ch *wire.ClientHello) {
			testpeer.SetExtension(ch, wire.ExtEarlyData, wire.EarlyDataIndication{})
		}, nil, false},
		{"padding changed", func(ch *wire.ClientHello) {
			testpeer.SetExtension(ch, wire.ExtPadding, rawData(make([]byte, 100)))
		}, func(ch *wire.ClientHello) {
			testpeer.SetExtension(ch, wire.ExtPadding, rawData(make([]byte, 20)))
		}, false},
		{"pre_shared_key updated", nil, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, done := hostileClient(t, cfg, handshakeAndWrite)
			o := retryOptions()
			o.SecondHello = c.second
			if c.first != nil {
				o.Mutate = testpeer.MutateType(c.first)
			}
			if c.psk {
				o.PSK = ticket.Offer()
			}
			err := p.ClientHandshake13(o)
			if err == nil {
				_, err = p.ReadApplicationData()
			}
			if verr := victimErr(t, done); err != nil || verr != nil {
				t.Fatalf("hostile client %v, server %v; want a completed handshake", err, verr)
			}
			if p.HelloRetry == nil {
				t.Error("no HelloRetryRequest")
			}
			if c.psk && !p.DidResume {
				t.Error("the updated pre_shared_key was not accepted")
			}
		})
	}
}

// TestSecondClientHelloMayNotDropTheSelectedPSK: a first ClientHello
// offers a session of ours (with a client chain) and an unknown PSK, but no
// usable key share: HelloRetryRequest. The second offers only the unknown
// PSK. The session fits the suite the HelloRetryRequest named, and RFC
// 8446 §4.1.2 lets a client remove only PSKs "incompatible with the
// server's indicated cipher suite": illegal_parameter, and nothing of the
// session's client chain in any state. (Before this rule the server
// negotiated anew on the second ClientHello; this test then checked that
// the first one's chain did not stay behind.)
func TestSecondClientHelloMayNotDropTheSelectedPSK(t *testing.T) {
	cfg := tlsflowServerConfig(0)
	cfg.ClientAuth = tlsflow.RequestClientCert
	p, done := hostileClient(t, cfg, handshakeAndWrite)
	err := p.ClientHandshake13(&testpeer.ClientOptions{ServerName: "localhost", Chain: sharedCerts().client.Chain, Signer: sharedCerts().client.Key})
	if err == nil {
		_, err = p.ReadApplicationData()
	}
	if verr := victimErr(t, done); err != nil || verr != nil || len(p.Tickets13) == 0 {
		t.Fatalf("session with a client certificate: %v (server: %v)", err, verr)
	}
	ticket := p.Tickets13[0]
	unknown := &testpeer.PSK{Identity: testpeer.Random(40), Secret: testpeer.Random(ticket.Offer().Hash.Size()), Hash: ticket.Offer().Hash}

	var state tlsflow.ConnectionState
	handshakeAndKeepState := func(c *tlsflow.Conn) error {
		err := handshakeAndWrite(c)
		state = c.ConnectionState()
		return err
	}
	// First the session as it is, through a HelloRetryRequest: it resumes,
	// with its client chain. So the server does take it in a first
	// ClientHello.
	p, done = hostileClient(t, cfg, handshakeAndKeepState)
	o := retryOptions()
	o.PSK = ticket.Offer()
	err = p.ClientHandshake13(o)
	if verr := victimErr(t, done); err != nil || verr != nil || !state.DidResume || len(state.PeerCertificates) == 0 {
		t.Fatalf("resuming the session: client %v, server %v, resumed %v with %d client certificates; want it resumed with its chain",
			err, verr, state.DidResume, len(state.PeerCertificates))
	}

	state = tlsflow.ConnectionState{}
	p, done = hostileClient(t, cfg, handshakeAndKeepState)
	o = retryOptions()
	o.PSK, o.AlsoPSK, o.SecondPSK = ticket.Offer(), unknown, unknown
	flowErr := p.ClientHandshake13(o)
	wantVictimAlert(t, "server", done, sent(alert.IllegalParameter, 1, "ClientHello", "dropped a PSK"))
	wantPeerAlert(t, p, flowErr, alert.IllegalParameter)
	if state.DidResume || len(state.PeerCertificates) != 0 {
		t.Errorf("the refused connection's state: resumed %v, %d client certificates; want neither", state.DidResume, len(state.PeerCertificates))
	}
}
