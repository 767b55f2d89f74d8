package handshake

import (
	"fmt"
	"testing"

	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// The TLS 1.3 engines in the same harness as the TLS 1.2 ones
// (engine12_test.go). Both sides send the compatibility ChangeCipherSpec
// (RFC 8446 Appendix D.4), which the peer consumes and drops, and the
// server's NewSessionTicket arrives after the client has completed, so
// feed routes it to HandlePostHandshake, as tlsflow.Conn does.

var (
	// tls13Auth is a full handshake with every message of RFC 8446
	// Figure 1: the server asks for a client certificate and verifies it.
	tls13Auth = variant{name: "TLS 1.3 with client auth",
		version: suites.VersionTLS13, suite: suites.TLS_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert}
	// tls13Retry goes through a HelloRetryRequest (RFC 8446 §4.1.4): the
	// client's only key share is for X25519, the server takes P-256 only.
	tls13Retry = variant{name: "TLS 1.3 through HelloRetryRequest",
		version: suites.VersionTLS13, suite: suites.TLS_CHACHA20_POLY1305_SHA256,
		serverCert:   func(f *fixtures) *Certificate { return f.ecdsaCert },
		clientGroups: []uint16{suites.GroupX25519, suites.GroupP256}, serverGroups: []uint16{suites.GroupP256}}
	// tls13Resumed resumes the ticket of a first full handshake in
	// psk_dhe_ke mode (RFC 8446 §2.2): no certificates, a fresh key
	// exchange, and a new ticket after the handshake.
	tls13Resumed = variant{name: "TLS 1.3 PSK resumption (psk_dhe_ke)",
		version: suites.VersionTLS13, suite: suites.TLS_AES_256_GCM_SHA384,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, tickets: true, resume: true}

	// tls13RetryAuth combines them: a HelloRetryRequest (the groups of
	// tls13Retry), client auth, and a ticket that carries the client's
	// chain. It is the full handshake whose session tls13RetryResumed
	// resumes.
	tls13RetryAuth = variant{name: "TLS 1.3 through HelloRetryRequest with client auth, issuing a ticket",
		version: suites.VersionTLS13, suite: suites.TLS_CHACHA20_POLY1305_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert, tickets: true,
		clientGroups: []uint16{suites.GroupX25519, suites.GroupP256}, serverGroups: []uint16{suites.GroupP256}}
	// tls13RetryResumed resumes a client-auth session through a
	// HelloRetryRequest: the second ClientHello offers the PSK again with
	// a binder over the new transcript (RFC 8446 §4.2.11.2), and the
	// server checks the client chain in the ticket again.
	tls13RetryResumed = variant{name: "TLS 1.3 resumption of a client-auth session through HelloRetryRequest",
		version: suites.VersionTLS13, suite: suites.TLS_CHACHA20_POLY1305_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert,
		tickets: true, resume: true,
		clientGroups: []uint16{suites.GroupX25519, suites.GroupP256}, serverGroups: []uint16{suites.GroupP256}}
	// tls13PSKOnly resumes a client-auth session in psk_ke mode (RFC 8446
	// §4.2.9): no key share in the ServerHello, the keys from the PSK alone.
	tls13PSKOnly = variant{name: "TLS 1.3 psk_ke resumption of a client-auth session",
		version: suites.VersionTLS13, suite: suites.TLS_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert,
		tickets: true, resume: true, pskOnly: true}
	// tls13ExternalPSK is authenticated by an external PSK (RFC 8446
	// §4.2.11) although the server has a certificate and requires the
	// client's: neither is sent (§4.3.2, §E.7), and no ticket follows.
	tls13ExternalPSK = variant{name: "TLS 1.3 with an external PSK",
		version: suites.VersionTLS13, suite: suites.TLS_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert,
		tickets: true, externalPSK: true}
	// tls13Compressed is tls13Auth with both certificates compressed (RFC
	// 8879: zlib, the one algorithm both offer) and record size limits
	// (RFC 8449).
	tls13Compressed = variant{name: "TLS 1.3 with compressed certificates and record size limits",
		version: suites.VersionTLS13, suite: suites.TLS_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, clientAuth: RequireAndVerifyClientCert, compressed: true}
	// tls13EarlyData resumes with 0-RTT (RFC 8446 §2.3): early data right
	// after the ClientHello, accepted, and EndOfEarlyData before the
	// client's Finished switches to the handshake key.
	tls13EarlyData = variant{name: "TLS 1.3 resumption with 0-RTT early data",
		version: suites.VersionTLS13, suite: suites.TLS_AES_128_GCM_SHA256,
		serverCert: func(f *fixtures) *Certificate { return f.ecdsaCert }, tickets: true, resume: true, earlyData: true}
)

var realInputs13 = map[string][2][]string{
	tls13Auth.name: {
		{"ServerHello", "ChangeCipherSpec", "EncryptedExtensions", "CertificateRequest", "Certificate", "CertificateVerify", "Finished"},
		{"ClientHello", "ChangeCipherSpec", "Certificate", "CertificateVerify", "Finished"},
	},
	tls13Retry.name: {
		{"HelloRetryRequest", "ChangeCipherSpec", "ServerHello", "EncryptedExtensions", "Certificate", "CertificateVerify", "Finished"},
		{"ClientHello", "ChangeCipherSpec", "ClientHello", "Finished"},
	},
	tls13Resumed.name: {
		{"ServerHello", "ChangeCipherSpec", "EncryptedExtensions", "Finished", "NewSessionTicket"},
		{"ClientHello", "ChangeCipherSpec", "Finished"},
	},
	tls13RetryAuth.name: {
		{"HelloRetryRequest", "ChangeCipherSpec", "ServerHello", "EncryptedExtensions", "CertificateRequest", "Certificate", "CertificateVerify", "Finished", "NewSessionTicket"},
		{"ClientHello", "ChangeCipherSpec", "ClientHello", "Certificate", "CertificateVerify", "Finished"},
	},
	tls13RetryResumed.name: {
		{"HelloRetryRequest", "ChangeCipherSpec", "ServerHello", "EncryptedExtensions", "Finished", "NewSessionTicket"},
		{"ClientHello", "ChangeCipherSpec", "ClientHello", "Finished"},
	},
	tls13Compressed.name: {
		{"ServerHello", "ChangeCipherSpec", "EncryptedExtensions", "CertificateRequest", "CompressedCertificate", "CertificateVerify", "Finished"},
		{"ClientHello", "ChangeCipherSpec", "CompressedCertificate", "CertificateVerify", "Finished"},
	},
	tls13EarlyData.name: {
		{"ServerHello", "ChangeCipherSpec", "EncryptedExtensions", "Finished", "NewSessionTicket"},
		{"ClientHello", "ChangeCipherSpec", "EndOfEarlyData", "Finished"},
	},
	tls13ExternalPSK.name: {
		{"ServerHello", "ChangeCipherSpec", "EncryptedExtensions", "Finished", "NewSessionTicket"},
		{"ClientHello", "ChangeCipherSpec", "Finished"},
	},
	tls13PSKOnly.name: {
		{"ServerHello", "ChangeCipherSpec", "EncryptedExtensions", "Finished", "NewSessionTicket"},
		{"ClientHello", "ChangeCipherSpec", "Finished"},
	},
}

// keysAgree reports whether what w seals, r opens: both ends derived the
// same traffic key and stand at the same sequence number.
func keysAgree(w, r record.Cipher) bool {
	if w == nil || r == nil {
		return false
	}
	rec, err := w.Seal(nil, record.ApplicationData, suites.VersionTLS12, []byte("ping"))
	if err != nil {
		return false
	}
	typ, got, err := r.Open(rec[:record.HeaderLen], rec[record.HeaderLen:])
	return err == nil && typ == record.ApplicationData && string(got) == "ping"
}

func TestEngines13CompleteARealHandshakeInEachVariant(t *testing.T) {
	tests := []struct {
		v     variant
		group uint16
	}{
		{tls13Auth, suites.GroupX25519MLKEM768},
		{tls13Retry, suites.GroupP256},
		{tls13Resumed, suites.GroupX25519MLKEM768}, // psk_dhe_ke: a fresh exchange all the same
		{tls13RetryAuth, suites.GroupP256},
		{tls13RetryResumed, suites.GroupP256},
		{tls13PSKOnly, 0}, // psk_ke: no exchange
		{tls13ExternalPSK, suites.GroupX25519MLKEM768},
		{tls13EarlyData, suites.GroupX25519MLKEM768},
		{tls13Compressed, suites.GroupX25519MLKEM768},
	}
	for _, tt := range tests {
		v := tt.v
		t.Run(v.name, func(t *testing.T) {
			cli, srv := v.configs(t)
			offered := cli.Session
			var stored *session.State
			cli.StoreSession = func(s *session.State) { stored = s }
			cv := newConversation(t, cli, srv)
			var got [2][]string
			for len(cv.queue[clientSide])+len(cv.queue[serverSide]) > 0 {
				s := clientSide
				if len(cv.queue[s]) == 0 {
					s = serverSide
				}
				got[s] = append(got[s], cv.queue[s][0].String())
				if err := cv.deliver(s); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []side{clientSide, serverSide} {
				if fmt.Sprint(got[s]) != fmt.Sprint(realInputs[v.name][s]) {
					t.Errorf("%s consumed %v, want %v", s, got[s], realInputs[v.name][s])
				}
				if !cv.engine(s).Complete() {
					t.Errorf("%s did not complete", s)
				}
			}
			cs, ss := cv.client.State(), cv.server.State()
			if cs.Version != suites.VersionTLS13 || ss.Version != suites.VersionTLS13 ||
				cs.CipherSuite != v.suite || ss.CipherSuite != v.suite || cs.Group != tt.group || ss.Group != tt.group {
				t.Errorf("negotiated %#04x/%#04x, suites %#04x/%#04x, groups %#04x/%#04x (client/server); want %#04x, %#04x, %#04x",
					cs.Version, ss.Version, cs.CipherSuite, ss.CipherSuite, cs.Group, ss.Group, suites.VersionTLS13, v.suite, tt.group)
			}
			if cs.DidResume != v.resume || ss.DidResume != v.resume {
				t.Errorf("resumed: client %v, server %v; want %v", cs.DidResume, ss.DidResume, v.resume)
			}
			if len(cs.ExporterSecret) == 0 || !keys.Equal(cs.ExporterSecret, ss.ExporterSecret) {
				t.Error("client and server disagree on exporter_master_secret")
			}
			if !keysAgree(cv.write[clientSide], cv.read[serverSide]) || !keysAgree(cv.write[serverSide], cv.read[clientSide]) {
				t.Error("the application traffic keys do not agree in both directions")
			}
			if cs.EarlyDataAccepted != v.earlyData || ss.EarlyDataAccepted != v.earlyData {
				t.Errorf("early data accepted: client %v, server %v; want %v", cs.EarlyDataAccepted, ss.EarlyDataAccepted, v.earlyData)
			}
			switch {
			case v.externalPSK:
				// The PSK authenticates both sides: no certificate, no
				// request; the ticket's session remembers the PSK.
				if string(cs.ExternalPSKIdentity) != "fuzzed device" || string(ss.ExternalPSKIdentity) != "fuzzed device" ||
					len(ss.PeerCertificates)+len(cs.PeerCertificates)+len(cs.RequestedCAs) != 0 ||
					stored == nil || string(stored.ExternalPSKIdentity) != "fuzzed device" {
					t.Errorf("external PSK: identities %q/%q, %d/%d peer certificates, %d requested CAs, session stored %+v; want the PSK alone, and in the session",
						cs.ExternalPSKIdentity, ss.ExternalPSKIdentity, len(cs.PeerCertificates), len(ss.PeerCertificates), len(cs.RequestedCAs), stored)
				}
				return
			case v.clientAuth.requires() && !v.resume && (len(ss.PeerCertificates) == 0 || ss.PeerSignatureScheme == 0 || len(cs.RequestedCAs) == 0):
				t.Errorf("client auth: the server has %d client certificates (signed with %#04x), the client saw %d requested CAs",
					len(ss.PeerCertificates), ss.PeerSignatureScheme, len(cs.RequestedCAs))
			case v.clientAuth.requires() && v.resume && len(ss.PeerCertificates) == 0:
				t.Error("client auth, resumed: the server lost the client certificate of the session")
			}
			if v.resume && len(cs.PeerCertificates) == 0 {
				t.Error("the resumed client lost the server certificate of the session")
			}
			if v.tickets && (stored == nil || stored.Version != suites.VersionTLS13 || stored.CipherSuite != v.suite) {
				t.Errorf("the client stored session %+v, want a TLS 1.3 session for %#04x from the NewSessionTicket", stored, v.suite)
			}
			if v.resume && stored != nil && !stored.CreatedAt.Equal(offered.CreatedAt) {
				t.Errorf("the renewed session was created at %v, the session it renews at %v", stored.CreatedAt, offered.CreatedAt)
			}
		})
	}
}

// wrongInputs13 is one input of every kind, in its TLS 1.3 form where it
// has one, well formed but for the wrong moment, plus TLS 1.2-only types.
func wrongInputs13() []input {
	f := testFixtures()
	schemes := wire.SignatureAlgorithms{signature.ECDSASecp256r1SHA256}
	req := &wire.CertificateRequest13{}
	req.Extensions.Add(wire.ExtSignatureAlgorithms, &schemes)
	point := make([]byte, 32)
	return []input{
		nil, // ChangeCipherSpec
		must((&wire.ClientHello{Version: suites.VersionTLS12, CipherSuites: []uint16{suites.TLS_AES_128_GCM_SHA256}, CompressionMethods: []uint8{0}}).Marshal()),
		must((&wire.ServerHello{Version: suites.VersionTLS12, CipherSuite: suites.TLS_AES_128_GCM_SHA256}).Marshal()),
		must((&wire.NewSessionTicket13{Lifetime: 60, Nonce: []byte{0}, Ticket: []byte("ticket")}).Marshal()),
		must((&wire.EndOfEarlyData{}).Marshal()),
		must((&wire.EncryptedExtensions{}).Marshal()),
		must((&wire.Certificate13{Entries: []wire.CertificateEntry{{Data: f.client.Chain[0]}}}).Marshal()),
		must(req.Marshal()),
		must((&wire.CertificateVerify{SignatureScheme: signature.ECDSASecp256r1SHA256, Signature: []byte{1}}).Marshal()),
		must((&wire.Finished{VerifyData: make([]byte, 32)}).Marshal()),
		must((&wire.KeyUpdate{RequestUpdate: wire.UpdateNotRequested}).Marshal()),

		// TLS 1.2 only
		must((&wire.HelloRequest{}).Marshal()),
		must((&wire.ServerKeyExchange{Group: suites.GroupX25519, PublicKey: point,
			SignatureScheme: signature.ECDSASecp256r1SHA256, Signature: []byte{1}}).Marshal()),
		must((&wire.ServerHelloDone{}).Marshal()),
		must((&wire.ClientKeyExchangeECDHE{PublicKey: point}).Marshal()),

		{99, 0, 0, 0}, // unassigned type
		{},            // not even a header
	}
}

// In the TLS 1.3 states a ChangeCipherSpec is in the accepted list from
// the moment the engine knows the version until the peer's Finished: it is
// the peer's compatibility record, dropped (RFC 8446 §5). Established, the
// engine takes post-handshake messages (step 8) only.

func TestClient13RefusesUnexpectedMessageInEachState(t *testing.T) {
	checkUnexpectedInEachState(t, clientSide, []engineState{
		{"readServerHello", tls13Auth, 0, 2, []string{"ServerHello"}},
		{"readEncryptedExtensions", tls13Auth, 1, 2, []string{"EncryptedExtensions", "ChangeCipherSpec"}},
		// Refusing, this state names Certificate, the one message it cannot do without.
		{"readCertificateRequestOrCertificate13", tls13Auth, 3, 3, []string{"Certificate", "CertificateRequest", "ChangeCipherSpec"}},
		{"readServerCertificate13", tls13Auth, 4, 3, []string{"Certificate", "ChangeCipherSpec"}},
		{"readServerCertificateVerify13", tls13Auth, 5, 3, []string{"CertificateVerify", "ChangeCipherSpec"}},
		{"readServerFinished13", tls13Auth, 6, 7, []string{"Finished", "ChangeCipherSpec"}},
		{"established", tls13Auth, 7, 8, []string{"KeyUpdate", "NewSessionTicket", "CertificateRequest"}}, // the client has a certificate: it offered post_handshake_auth
		{"retried/readServerHello", tls13Retry, 2, 2, []string{"ServerHello", "ChangeCipherSpec"}},
		{"retried/readEncryptedExtensions", tls13Retry, 3, 2, []string{"EncryptedExtensions", "ChangeCipherSpec"}},
		{"resumed/readEncryptedExtensions", tls13Resumed, 2, 2, []string{"EncryptedExtensions", "ChangeCipherSpec"}},
		{"resumed/readServerFinished13", tls13Resumed, 3, 7, []string{"Finished", "ChangeCipherSpec"}},
		{"resumed/established", tls13Resumed, 5, 8, []string{"KeyUpdate", "NewSessionTicket", "CertificateRequest"}}, // the client has a certificate: it offered post_handshake_auth
		{"retried-auth/readCertificateRequestOrCertificate13", tls13RetryAuth, 4, 3, []string{"Certificate", "CertificateRequest", "ChangeCipherSpec"}},
		{"retried-auth/established", tls13RetryAuth, 9, 8, []string{"KeyUpdate", "NewSessionTicket", "CertificateRequest"}}, // the client has a certificate: it offered post_handshake_auth
		{"retried-resumed/readServerHello", tls13RetryResumed, 2, 2, []string{"ServerHello", "ChangeCipherSpec"}},
		{"retried-resumed/readServerFinished13", tls13RetryResumed, 4, 7, []string{"Finished", "ChangeCipherSpec"}},
		{"psk_ke/readEncryptedExtensions", tls13PSKOnly, 2, 2, []string{"EncryptedExtensions", "ChangeCipherSpec"}},
	})
}

func TestServer13RefusesUnexpectedMessageInEachState(t *testing.T) {
	checkUnexpectedInEachState(t, serverSide, []engineState{
		{"readClientHello", tls13Auth, 0, 1, []string{"ClientHello"}},
		{"readClientCertificate13", tls13Auth, 1, 5, []string{"Certificate", "ChangeCipherSpec"}},
		{"readClientCertificateVerify13", tls13Auth, 3, 5, []string{"CertificateVerify", "ChangeCipherSpec"}},
		{"readClientFinished13", tls13Auth, 4, 7, []string{"Finished", "ChangeCipherSpec"}},
		{"established", tls13Auth, 5, 8, []string{"KeyUpdate"}},
		{"retried/readClientHello2", tls13Retry, 1, 1, []string{"ClientHello", "ChangeCipherSpec"}},
		{"retried/readClientFinished13", tls13Retry, 3, 7, []string{"Finished", "ChangeCipherSpec"}},
		{"resumed/readClientFinished13", tls13Resumed, 1, 7, []string{"Finished", "ChangeCipherSpec"}},
		{"resumed/established", tls13Resumed, 3, 8, []string{"KeyUpdate"}},
		{"retried-auth/readClientCertificate13", tls13RetryAuth, 3, 5, []string{"Certificate", "ChangeCipherSpec"}},
		{"retried-auth/readClientCertificateVerify13", tls13RetryAuth, 4, 5, []string{"CertificateVerify", "ChangeCipherSpec"}},
		{"retried-resumed/readClientHello2", tls13RetryResumed, 1, 1, []string{"ClientHello", "ChangeCipherSpec"}},
		{"retried-resumed/readClientFinished13", tls13RetryResumed, 3, 7, []string{"Finished", "ChangeCipherSpec"}},
		{"psk_ke/readClientFinished13", tls13PSKOnly, 1, 7, []string{"Finished", "ChangeCipherSpec"}},
	})
}
