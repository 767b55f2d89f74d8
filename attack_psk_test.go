package tlsflow_test

import (
	"crypto"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Attacks on external PSKs, by a hostile server against a tlsflow client
// that holds one, and by a hostile client against a tlsflow server.

func pskOnlyClient() *tlsflow.Config {
	return &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}}
}

// TestServerSelectsAPSKNobodyOffered: selected_identity past the client's
// list: illegal_parameter (RFC 8446 §4.2.11: "Clients MUST verify that
// the server's selected_identity is within the range supplied").
func TestServerSelectsAPSKNobodyOffered(t *testing.T) {
	p, done := hostileServer(t, pskOnlyClient(), nil)
	flowErr := p.ServerHandshake13(&testpeer.ServerOptions{PSK: pskKey, SelectedIdentity: 3,
		CipherSuite: tlsflow.TLS_AES_128_GCM_SHA256})
	wantVictimAlert(t, "client", done, sent(alert.IllegalParameter, 2, "ServerHello", "did not offer"))
	plaintextAlert(t, p, flowErr)
}

// TestServerSelectsAPSKWithASuiteOfAnotherHash: a SHA-256 PSK with a
// SHA-384 suite: illegal_parameter (§4.2.11: the client MUST verify "that
// the server selected a cipher suite indicating a Hash associated with the
// PSK").
func TestServerSelectsAPSKWithASuiteOfAnotherHash(t *testing.T) {
	p, done := hostileServer(t, pskOnlyClient(), nil)
	flowErr := p.ServerHandshake13(&testpeer.ServerOptions{PSK: pskKey, CipherSuite: tlsflow.TLS_AES_256_GCM_SHA384})
	wantVictimAlert(t, "client", done, sent(alert.IllegalParameter, 2, "ServerHello", "hash differs"))
	plaintextAlert(t, p, flowErr)
}

// TestServerAuthenticatesTwice: a server that selects the PSK and then
// sends a Certificate anyway. The client expects Finished there (RFC 8446
// §2.2: with a PSK "the server ... does not send Certificate"; §E.7:
// external PSKs MUST NOT be combined with certificates):
// unexpected_message, and no certificate is looked at.
func TestServerAuthenticatesTwice(t *testing.T) {
	p, done := hostileServer(t, pskOnlyClient(), nil)
	leaf := sharedCerts().ecdsa
	flowErr := p.ServerHandshake13(&testpeer.ServerOptions{PSK: pskKey, CertificateWithPSK: true,
		CipherSuite: tlsflow.TLS_AES_128_GCM_SHA256, Chain: leaf.Chain, Signer: leaf.Key})
	wantVictimAlert(t, "client", done, sent(alert.UnexpectedMessage, anyStep, ""))
	wantPeerAlert(t, p, flowErr, alert.UnexpectedMessage)
}

// TestServerSkipsThePSK: a client that can only check a PSK (no
// ServerName) meets a server that answers with a certificate, valid and
// trusted, for another name: handshake_failure, never a connection.
func TestServerSkipsThePSK(t *testing.T) {
	cfg := pskOnlyClient()
	cfg.RootCAs = sharedCerts().ca.Pool
	p, done := hostileServer(t, cfg, nil)
	leaf := sharedCerts().ecdsa
	flowErr := p.ServerHandshake13(&testpeer.ServerOptions{Chain: leaf.Chain, Signer: leaf.Key})
	wantVictimAlert(t, "client", done, sent(alert.HandshakeFailure, 2, "ServerHello", "none of our external PSKs"))
	plaintextAlert(t, p, flowErr)
}

// TestClientBindsAnExternalPSKAsAResumption: the right key under the
// right identity, but its binder made with the resumption label ("res
// binder" for an "ext binder" PSK): the binder does not verify, and the
// server aborts with decrypt_error (RFC 8446 §4.2.11, §7.1: the labels
// keep one kind of PSK from passing for another).
func TestClientBindsAnExternalPSKAsAResumption(t *testing.T) {
	for name, kind := range map[string]keys.PSKKind{"res binder": keys.Resumption, "imp binder": keys.Imported} {
		t.Run(name, func(t *testing.T) {
			p, done := hostileClient(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}}, nil)
			flowErr := p.ClientHandshake13(&testpeer.ClientOptions{CipherSuites: []uint16{tlsflow.TLS_AES_128_GCM_SHA256},
				PSK: &testpeer.PSK{Identity: clientPSK.Identity, Secret: pskKey, Hash: crypto.SHA256, Kind: kind}})
			wantVictimAlert(t, "server", done, sent(alert.DecryptError, 1, "ClientHello", "binder"))
			wantPeerAlert(t, p, flowErr, alert.DecryptError)
		})
	}
	t.Run("ext binder", func(t *testing.T) {
		// The control: the same offer with the right label connects.
		p, done := hostileClient(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}}, nil)
		if err := p.ClientHandshake13(&testpeer.ClientOptions{CipherSuites: []uint16{tlsflow.TLS_AES_128_GCM_SHA256},
			PSK: &testpeer.PSK{Identity: clientPSK.Identity, Secret: pskKey, Hash: crypto.SHA256, Kind: keys.External}}); err != nil {
			t.Fatalf("hostile client: %v (server: %v)", err, victimErr(t, done))
		}
		if !p.DidResume {
			t.Error("the server did not take the PSK")
		}
	})
}

// TestClientOffersManyPSKIdentities: a ClientHello with 200 identities
// costs the server at most the limits policy's 16 lookups; the PSK past
// them is not used, and without a certificate the server fails the
// handshake rather than look further.
func TestClientOffersManyPSKIdentities(t *testing.T) {
	var lookups atomic.Int32
	cfg := &tlsflow.Config{GetExternalPSK: func(identity []byte) (*tlsflow.ExternalPSK, error) {
		lookups.Add(1)
		if string(identity) == string(clientPSK.Identity) {
			return &clientPSK, nil
		}
		return nil, nil
	}}
	p, done := hostileClient(t, cfg, nil)
	var many []*testpeer.PSK
	for i := range 200 {
		many = append(many, &testpeer.PSK{Identity: fmt.Appendf(nil, "stranger-%03d", i), Secret: pskOther, Hash: crypto.SHA256, Kind: keys.External})
	}
	opts := &testpeer.ClientOptions{CipherSuites: []uint16{tlsflow.TLS_AES_128_GCM_SHA256}, ManyPSKs: append(many,
		&testpeer.PSK{Identity: clientPSK.Identity, Secret: pskKey, Hash: crypto.SHA256, Kind: keys.External})}
	flowErr := p.ClientHandshake13(opts)
	wantVictimAlert(t, "server", done, sent(alert.HandshakeFailure, anyStep, ""))
	wantPeerAlert(t, p, flowErr, alert.HandshakeFailure)
	if n := lookups.Load(); n > 16 {
		t.Errorf("the server looked up %d identities; want at most 16", n)
	}
}

// plaintextAlert checks that the hostile server's flow stopped on the
// client's alert, which comes unprotected: the client refused the
// ServerHello before deriving any key (RFC 8446 §5: alerts are protected
// from the point the sender has keys). The hostile peer, keys already in
// place, reports it as an unprotected alert record.
// The flow may also stop on a write to the connection the client closed;
// the alert is then still there to read.
func plaintextAlert(t *testing.T, p *testpeer.Peer, flowErr error) {
	t.Helper()
	const plain = "unprotected alert record"
	if flowErr != nil && strings.Contains(flowErr.Error(), plain) {
		return
	}
	if _, _, err := p.ExpectAlert(); err == nil || !strings.Contains(err.Error(), plain) {
		t.Errorf("hostile server's flow ended with %v, then reading gave %v; want the client's alert, in plaintext", flowErr, err)
	}
}

// TestServerDropsTheKeyShareOfAPSKWithECDHE: the server selects the PSK
// but sends no key_share, as if in psk_ke, which the client did not allow
// for it: illegal_parameter (RFC 8446 §4.2.11: the client MUST verify
// "that a server "key_share" extension is present if required by the
// ClientHello "psk_key_exchange_modes" extension").
func TestServerDropsTheKeyShareOfAPSKWithECDHE(t *testing.T) {
	p, done := hostileServer(t, pskOnlyClient(), nil)
	flowErr := p.ServerHandshake13(&testpeer.ServerOptions{PSK: pskKey, CipherSuite: tlsflow.TLS_AES_128_GCM_SHA256,
		Script: testpeer.Script{Mutate: testpeer.MutateType(func(sh *wire.ServerHello) {
			var kept wire.Extensions
			for _, e := range sh.Extensions {
				if e.Type != wire.ExtKeyShare {
					kept = append(kept, e)
				}
			}
			sh.Extensions = kept
		})}})
	wantVictimAlert(t, "client", done, sent(alert.IllegalParameter, 2, "ServerHello", "no key_share"))
	plaintextAlert(t, p, flowErr)
}
