package handshake

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// Post-handshake client authentication (RFC 8446 §4.6.2): a client that
// offered post_handshake_auth may be asked for a certificate at any time
// after the handshake. The server sends a CertificateRequest with a fresh
// certificate_request_context; the client answers Certificate (echoing
// the context), CertificateVerify (with a certificate) and Finished. Each
// exchange is bound to the handshake: its transcript is the handshake's,
// ClientHello through the client's Finished, then the exchange's own
// messages, and its Finished is keyed from the current
// client_application_traffic_secret (RFC 8446 §4.4, the table's last row).
//
// Like a KeyUpdate, the client's answer is written by whoever holds the
// connection's writer next (CertificateRequestOwed, AnswerCertificateRequest):
// the reader never waits for the writer.

// pha13 is what post-handshake authentication keeps after the handshake.
type pha13 struct {
	handshake keys.Transcript // ClientHello … client Finished

	// Client: the CertificateRequest to answer, as received.
	request    *wire.CertificateRequest13
	requestRaw []byte

	// Server: the exchange under way, if any.
	pending    bool
	context    []byte
	schemes    []uint16
	transcript keys.Transcript
	requires   bool
	verify     func([]*x509.Certificate) (*PeerCertificates, error)
	peer       *PeerCertificates // the chain, until the client's Finished proves it
	peerKey    crypto.PublicKey
	next       wire.HandshakeType
	result     error // a finished exchange's outcome, until taken
	finished   bool
}

// keepForPostHandshakeAuth keeps the handshake's transcript once it is
// complete, when the client offered post_handshake_auth: every later
// exchange starts from it.
func (b *base) keepForPostHandshakeAuth() {
	if b.state.PostHandshakeAuth {
		b.pha = &pha13{handshake: *b.transcript.Clone()}
	}
}

// takeCertificateRequest13 reads a server's post-handshake
// CertificateRequest; the answer is owed until the writer makes it.
func (b *base) takeCertificateRequest13(msg []byte) error {
	if b.pha == nil {
		// RFC 8446 §4.6.2: "A client that receives a CertificateRequest
		// message without having sent the "post_handshake_auth" extension
		// MUST send an "unexpected_message" fatal alert."
		return unexpected(msg, 8, "KeyUpdate or NewSessionTicket (this client did not offer post_handshake_auth)")
	}
	if b.pha.request != nil {
		return alert.Errorf(alert.UnexpectedMessage, 8, "CertificateRequest", "a second CertificateRequest before this client answered the first")
	}
	req := new(wire.CertificateRequest13)
	if err := parse(req, msg, 8); err != nil {
		return err
	}
	b.traceMessage(trace.Received, req, msg, 8)
	if !req.Extensions.Has(wire.ExtSignatureAlgorithms) {
		return alert.Errorf(alert.MissingExtension, 8, "CertificateRequest", "no signature_algorithms (RFC 8446 §4.3.2)")
	}
	b.pha.request, b.pha.requestRaw = req, msg
	return nil
}

// CertificateRequestOwed reports whether a post-handshake CertificateRequest
// waits for our answer.
func (b *base) CertificateRequestOwed() bool { return b.pha != nil && b.pha.request != nil }

// answerCertificateRequest13 makes the client's answer: a certificate that
// fits the request (or none), its CertificateVerify, and Finished, over
// the handshake's transcript and the exchange.
func (b *base) answerCertificateRequest13(k *secrets13) (_ []Action, err error) {
	defer catchPanic(&err)
	if !b.CertificateRequestOwed() {
		return nil, nil
	}
	req := b.pha.request
	b.pha.request = nil
	b.transcript = *b.pha.handshake.Clone()
	defer func() { b.transcript = keys.Transcript{} }()
	b.transcript.Write(b.pha.requestRaw)
	var schemes wire.SignatureAlgorithms
	if _, err := req.Extensions.DecodeWith(wire.ExtSignatureAlgorithms, schemes.Unmarshal); err != nil {
		return nil, alert.Errorf(alert.DecodeError, 8, "CertificateRequest", "signature_algorithms: %w", err)
	}
	var cas wire.CertificateAuthorities
	if _, err := req.Extensions.DecodeWith(wire.ExtCertificateAuthorities, cas.Unmarshal); err != nil {
		return nil, alert.Errorf(alert.DecodeError, 8, "CertificateRequest", "certificate_authorities: %w", err)
	}
	cert, err := b.chooseClientCertificate(nil, schemes, cas, true)
	if err != nil {
		return nil, err
	}
	if cert == nil {
		if err := b.send(&wire.Certificate13{Context: req.Context}, 8); err != nil {
			return nil, err
		}
	} else {
		signer, ok := cert.PrivateKey.(crypto.Signer)
		if !ok {
			return nil, internalError(8, "CertificateVerify", fmt.Errorf("client private key %T is not a crypto.Signer", cert.PrivateKey))
		}
		scheme, ok := signature.Choose(cert.signingSchemes(b.cfg.SignatureSchemes), schemes, signer.Public(), true)
		if !ok {
			return nil, alert.Errorf(alert.HandshakeFailure, 8, "CertificateVerify", "no signature scheme the server accepts fits the client key (%s)%s",
				keyName(signer.Public()), cert.ownSchemes())
		}
		if err := b.sendCertificate13(req.Context, cert, nil, signer, scheme, signature.ContextClient, 0, 8); err != nil {
			return nil, err
		}
	}
	verify := keys.Finished13(b.hash(k.suite.Hash), k.clientApp, b.transcript.Sum())
	if err := b.send(&wire.Finished{VerifyData: verify}, 8); err != nil {
		return nil, err
	}
	b.note(trace.KindNote, 8, "post-handshake authentication", "answered", fmt.Sprint(cert != nil))
	return b.take(), nil
}

// requestClientCertificate13 starts a post-handshake authentication: a
// CertificateRequest with a fresh context. requires says whether an empty
// answer fails the exchange; verify judges a chain.
func (b *base) requestClientCertificate13(requires bool, verify func([]*x509.Certificate) (*PeerCertificates, error)) (_ []Action, err error) {
	defer catchPanic(&err)
	switch {
	case b.side != trace.Server || !b.complete:
		return nil, fmt.Errorf("a post-handshake CertificateRequest needs a completed TLS 1.3 server handshake")
	case b.pha == nil:
		// RFC 8446 §4.6.2: "Servers MUST NOT send a post-handshake
		// CertificateRequest to clients which do not offer this extension."
		return nil, fmt.Errorf("the client did not offer post-handshake authentication (post_handshake_auth)")
	case b.pha.pending:
		return nil, fmt.Errorf("a post-handshake authentication is already under way")
	}
	context := make([]byte, 32) // unique within the connection (RFC 8446 §4.3.2)
	if _, err := io.ReadFull(b.random(), context); err != nil {
		return nil, internalError(8, "CertificateRequest", err)
	}
	req := &wire.CertificateRequest13{Context: context}
	schemes := wire.SignatureAlgorithms(tls13Schemes(b.cfg.SignatureSchemes))
	if len(schemes) == 0 {
		schemes = wire.SignatureAlgorithms(b.cfg.SignatureSchemes) // see sendCertificateRequest13
	}
	req.Extensions.Add(wire.ExtSignatureAlgorithms, &schemes)
	if len(b.cfg.ClientCANames) > 0 {
		cas := wire.CertificateAuthorities(b.cfg.ClientCANames)
		req.Extensions.Add(wire.ExtCertificateAuthorities, &cas)
	}
	raw, err := req.Marshal()
	if err != nil {
		return nil, internalError(8, "CertificateRequest", err)
	}
	*b.pha = pha13{handshake: b.pha.handshake, pending: true, context: context, schemes: schemes,
		transcript: *b.pha.handshake.Clone(), requires: requires, verify: verify, next: wire.TypeCertificate}
	b.pha.transcript.Write(raw)
	b.act(SendMessage{Data: raw})
	b.traceMessage(trace.Sent, req, raw, 8)
	return b.take(), nil
}

// readPostHandshakeAuth13 reads the client's answer, message by message;
// its chain becomes the connection's peer only once its Finished verifies.
func (b *base) readPostHandshakeAuth13(k *secrets13, msg []byte) error {
	p := b.pha
	if len(msg) == 0 || wire.HandshakeType(msg[0]) != p.next {
		return unexpected(msg, 8, p.next.String())
	}
	switch p.next {
	case wire.TypeCertificate:
		cert := new(wire.Certificate13)
		if err := parse(cert, msg, 8); err != nil {
			return err
		}
		cert.CertificateType = b.state.ClientCertType
		b.traceMessage(trace.Received, cert, msg, 8)
		p.transcript.Write(msg)
		if !bytes.Equal(cert.Context, p.context) {
			return alert.Errorf(alert.IllegalParameter, 8, "Certificate", "the certificate_request_context is not our CertificateRequest's")
		}
		if len(cert.Entries) == 0 {
			p.next = wire.TypeFinished
			return nil
		}
		if err := b.checkEntryExtensions(cert, nil, 8); err != nil {
			return err
		}
		if b.state.ClientCertType == certTypeRPK {
			// The type negotiated in EncryptedExtensions holds for the
			// Certificate after the handshake too (RFC 8446 §4.4.2).
			if len(cert.Entries) != 1 {
				return alert.Errorf(alert.DecodeError, 8, "Certificate", "client certificate rejected: %d entries where RawPublicKey allows one (RFC 8446 §4.4.2)", len(cert.Entries))
			}
			key, err := b.checkPeerRawKey(cert.Entries[0].Data, 8, "client certificate")
			if err != nil {
				return err
			}
			p.peer, p.peerKey, p.next = &PeerCertificates{RawPublicKey: bytes.Clone(cert.Entries[0].Data)}, key, wire.TypeCertificateVerify
			return nil
		}
		certs, err := b.peerChain(chainOf(cert), 8, "client certificate")
		if err != nil {
			return err
		}
		peer, err := p.verify(certs)
		if err != nil {
			return certificateError(8, "Certificate", "client certificate", err)
		}
		if leaf := peer.Certificates[0]; leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			return alert.Errorf(alert.UnsupportedCertificate, 8, "Certificate", "client certificate rejected: its Key Usage extension does not allow digital signatures")
		}
		p.peer, p.peerKey, p.next = peer, peer.Certificates[0].PublicKey, wire.TypeCertificateVerify
	case wire.TypeCertificateVerify:
		cv := new(wire.CertificateVerify)
		if err := parse(cv, msg, 8); err != nil {
			return err
		}
		th := p.transcript.Sum()
		b.traceMessage(trace.Received, cv, msg, 8)
		p.transcript.Write(msg)
		if err := b.verify13(p.peerKey, p.schemes, cv, signature.ContextClient, th, 8); err != nil {
			return err
		}
		p.next = wire.TypeFinished
	case wire.TypeFinished:
		fin := new(wire.Finished)
		if err := parse(fin, msg, 8); err != nil {
			return err
		}
		want := keys.Finished13(b.hash(k.suite.Hash), k.clientApp, p.transcript.Sum())
		b.traceMessage(trace.Received, fin, msg, 8)
		if err := b.verifyFinishedAt(8, fin, want, "client"); err != nil {
			return err
		}
		p.pending, p.finished = false, true
		if p.peer == nil {
			if p.requires {
				p.result = fmt.Errorf("the client sent no certificate")
			}
			b.note(trace.KindNote, 8, "post-handshake authentication", "certificate", "none")
			return nil
		}
		if p.peer.RawPublicKey != nil {
			b.note(trace.KindVerified, 8, "post-handshake authentication", "raw_public_key", "verified")
			return nil
		}
		b.note(trace.KindVerified, 8, "post-handshake authentication", "subject", p.peer.Certificates[0].Subject.String(),
			"verified", fmt.Sprint(len(p.peer.VerifiedChains) > 0))
	}
	return nil
}

// ClientCertificateResult reports whether a post-handshake authentication
// has finished since the last call, and its outcome: the client's chain,
// proved by its Finished (nil if it sent none), or why a client that was
// required to send a certificate is not authenticated. The connection
// makes the chain its peer's (the engine does not touch the State it
// shares: ConnectionState may be reading it).
func (b *base) ClientCertificateResult() (done bool, peer *PeerCertificates, err error) {
	if b.pha == nil || !b.pha.finished {
		return false, nil, nil
	}
	b.pha.finished = false
	return true, b.pha.peer, b.pha.result
}
