package tlsflow_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Attacks on post-handshake client authentication (RFC 8446 §4.6.2): a
// hostile server asking a client that did not offer it, and hostile
// clients answering a tlsflow server's request with what a real client
// would never send.

// readsAfterHandshake is a client victim that completes the handshake and
// reads, as a client waiting for its server does.
func readsAfterHandshake(c *tlsflow.Conn) error {
	if err := c.Handshake(); err != nil {
		return err
	}
	_, err := c.Read(make([]byte, 1))
	return err
}

// nextCertificateRequest reads past the server's tickets to its
// post-handshake CertificateRequest.
func nextCertificateRequest(p *testpeer.Peer) (*wire.CertificateRequest13, error) {
	for {
		msg, err := p.Next()
		if err != nil {
			return nil, err
		}
		if msg.Type == wire.TypeNewSessionTicket {
			continue
		}
		req := new(wire.CertificateRequest13)
		if msg.Type != wire.TypeCertificateRequest {
			return nil, fmt.Errorf("got %s, want CertificateRequest", msg.Type)
		}
		return req, req.Unmarshal(msg.Raw)
	}
}

// postHandshakeRequest is a CertificateRequest with context; without
// schemes it names only an authority (extensions may not be empty,
// <2..2^16-1>, RFC 8446 §4.3.2).
func postHandshakeRequest(context []byte, withSchemes bool) *wire.CertificateRequest13 {
	req := &wire.CertificateRequest13{Context: context}
	cas := wire.CertificateAuthorities{sharedCerts().ca.Cert.RawSubject}
	req.Extensions.Add(wire.ExtCertificateAuthorities, &cas)
	if withSchemes {
		schemes := wire.SignatureAlgorithms{signature.ECDSASecp256r1SHA256}
		req.Extensions.Add(wire.ExtSignatureAlgorithms, &schemes)
	}
	return req
}

// TestCertificateRequestToAClientThatDidNotOffer: "A client that receives
// a CertificateRequest message without having sent the
// "post_handshake_auth" extension MUST send an "unexpected_message" fatal
// alert" (RFC 8446 §4.6.2); a client with no certificate source offers
// none.
func TestCertificateRequestToAClientThatDidNotOffer(t *testing.T) {
	p, done := hostileServer(t, tlsflowClientConfig(tlsflow.VersionTLS13), readsAfterHandshake)
	if err := p.ServerHandshake13(&testpeer.ServerOptions{Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key}); err != nil {
		t.Fatalf("handshake: %v (client: %v)", err, victimErr(t, done))
	}
	if p.ClientHello.Extensions.Has(wire.ExtPostHandshakeAuth) {
		t.Fatal("a client without a certificate offered post_handshake_auth")
	}
	p.Send(postHandshakeRequest([]byte{1, 2, 3}, true))
	wantVictimAlert(t, "client", done, sent(alert.UnexpectedMessage, 8, ""))
	wantPeerAlert(t, p, nil, alert.UnexpectedMessage)
}

// TestPostHandshakeCertificateRequestWithoutSignatureAlgorithms: the
// request must say what to sign with (RFC 8446 §4.3.2): missing_extension.
func TestPostHandshakeCertificateRequestWithoutSignatureAlgorithms(t *testing.T) {
	cfg := tlsflowClientConfig(tlsflow.VersionTLS13)
	cfg.Certificates = []tlsflow.Certificate{flowCert(sharedCerts().client)}
	p, done := hostileServer(t, cfg, readsAfterHandshake)
	if err := p.ServerHandshake13(&testpeer.ServerOptions{Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key}); err != nil {
		t.Fatalf("handshake: %v (client: %v)", err, victimErr(t, done))
	}
	if !p.ClientHello.Extensions.Has(wire.ExtPostHandshakeAuth) {
		t.Fatal("a client with a certificate did not offer post_handshake_auth")
	}
	p.Send(postHandshakeRequest([]byte{1, 2, 3}, false))
	wantVictimAlert(t, "client", done, sent(alert.MissingExtension, 8, "CertificateRequest"))
	wantPeerAlert(t, p, nil, alert.MissingExtension)
}

// TestHostileAnswersToAPostHandshakeCertificateRequest: a tlsflow server
// asks; a hostile client answers with another request's context, skips
// the CertificateVerify of a chain, signs with garbage, or ends with a
// Finished that does not verify. Each ends the connection with the alert
// a handshake would send, and the server never takes the chain.
func TestHostileAnswersToAPostHandshakeCertificateRequest(t *testing.T) {
	c := sharedCerts()
	chain := c.client.Chain
	for _, tc := range []struct {
		name   string
		answer func(req *wire.CertificateRequest13) []wire.Message
		want   alertWant
	}{
		{"another context", func(req *wire.CertificateRequest13) []wire.Message {
			return []wire.Message{&wire.Certificate13{Context: []byte("not yours")}}
		}, sent(alert.IllegalParameter, 8, "Certificate")},
		{"a chain without CertificateVerify", func(req *wire.CertificateRequest13) []wire.Message {
			return []wire.Message{certificate13(req.Context, chain), &wire.Finished{VerifyData: make([]byte, 32)}}
		}, sent(alert.UnexpectedMessage, 8, "")},
		{"a signature of garbage", func(req *wire.CertificateRequest13) []wire.Message {
			return []wire.Message{certificate13(req.Context, chain),
				&wire.CertificateVerify{SignatureScheme: signature.ECDSASecp256r1SHA256, Signature: testpeer.Random(70)}}
		}, sent(alert.DecryptError, 8, "CertificateVerify")},
		{"a Finished that does not verify", func(req *wire.CertificateRequest13) []wire.Message {
			return []wire.Message{certificate13(req.Context, nil), &wire.Finished{VerifyData: testpeer.Random(32)}}
		}, sent(alert.DecryptError, 8, "Finished")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tlsflowServerConfig(tlsflow.VersionTLS13)
			cfg.ClientCAs = c.ca.Pool
			var state tlsflow.ConnectionState
			ask := func(conn *tlsflow.Conn) error {
				if err := conn.Handshake(); err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := conn.RequestClientCertificate(ctx, tlsflow.RequireAndVerifyClientCert)
				state = conn.ConnectionState()
				return err
			}
			p, done := hostileClient(t, cfg, ask)
			if err := p.ClientHandshake13(&testpeer.ClientOptions{ServerName: "localhost", CipherSuites: []uint16{tlsflow.TLS_AES_128_GCM_SHA256},
				Script: testpeer.Script{Mutate: testpeer.MutateType(func(ch *wire.ClientHello) { ch.Extensions.AddEmpty(wire.ExtPostHandshakeAuth) })}}); err != nil {
				t.Fatalf("handshake: %v (server: %v)", err, victimErr(t, done))
			}
			req, err := nextCertificateRequest(p)
			if err != nil {
				t.Fatalf("expecting the server's CertificateRequest: %v (server: %v)", err, victimErr(t, done))
			}
			for _, m := range tc.answer(req) {
				p.Send(m)
			}
			wantVictimAlert(t, "server", done, tc.want)
			wantPeerAlert(t, p, nil, tc.want.alert)
			if len(state.PeerCertificates) != 0 {
				t.Errorf("the server took %d certificates from a failed authentication", len(state.PeerCertificates))
			}
		})
	}
}

func certificate13(context []byte, chain [][]byte) *wire.Certificate13 {
	m := &wire.Certificate13{Context: context}
	for _, der := range chain {
		m.Entries = append(m.Entries, wire.CertificateEntry{Data: der})
	}
	return m
}
