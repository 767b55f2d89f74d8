// Package tlsflow is a TLS 1.2 (RFC 5246) and TLS 1.3 (RFC 8446)
// implementation, client and server, written from the handshake bytes up so
// that every step of a handshake can be watched and every failure explained.
//
// # The API of crypto/tls
//
// The types, functions, constants and error types are crypto/tls's, with
// its meanings: [Config], [Conn], [Client], [Server], [Dial], [Dialer],
// [Listen], [NewListener], [Certificate], [LoadX509KeyPair],
// [ConnectionState], [ClientSessionCache], the version, cipher suite,
// curve and signature scheme constants, [AlertError],
// [CertificateVerificationError], [RecordHeaderError]. For the common
// cases, code written for crypto/tls switches by its import line (see
// Example (Switching)). What behaves differently is documented where it
// differs and gathered in docs/SWITCHING.md; the main points:
//
//   - TLS 1.2 and 1.3 only: a MinVersion below TLS 1.2 means TLS 1.2, a
//     MaxVersion below it is a configuration error (RFC 8996).
//   - AEAD suites only; the CBC, RC4 and 3DES constants are accepted in
//     Config.CipherSuites and ignored. The server chooses the suite by a
//     fixed ranking (forward secrecy, ECDSA, key strength, AES-GCM), and
//     Config.CipherSuites selects TLS 1.3 suites too. The RSA key exchange
//     is off unless named there.
//   - X25519MLKEM768 is offered first by default; CurvePreferences is
//     honoured in its order.
//   - A server's handshake is bounded by Config.HandshakeTimeout (10 s by
//     default), and one limits policy bounds every size a peer controls.
//   - No QUIC (by design), no Encrypted Client Hello yet.
//
// docs/CRYPTO_TLS.md lists every identifier of crypto/tls with its status
// here, generated from both sources.
//
// # Watching the handshake
//
// Config.Trace receives an event for each step of each handshake — every
// message sent or received with its decoded fields and raw bytes, each key
// derivation, each verification, alerts, the summary — from the one place
// that does it, so the trace cannot disagree with the wire. Package trace
// defines the events and renders them (trace.NewRenderer): annotated text in
// English or German, grouped by the steps of the flow (0–8), or JSON lines
// for tools. KeyLogWriter writes the NSS key log for Wireshark.
//
// # Errors
//
// A failed handshake returns an error that carries an [*Error]: the alert
// that went over the wire (sent, or received from the peer), the step and
// message where the handshake stopped, the reason in plain words and, when
// it can be told, what to change (Hint). Get it with errors.As. The idioms of
// crypto/tls work on the same errors: errors.As with an [AlertError] value
// finds the alert code, a chain that failed verification is returned as a
// [*CertificateVerificationError] (with the crypto/x509 error in it), and a
// peer that does not speak TLS gives a [RecordHeaderError].
//
// # More
//
// README.md lists the features and the command line (cmd/tlsflow: a demo
// of the flow, an s_client-like connect, a server that shows visitors their
// handshake); docs/ARCHITECTURE.md describes the layers and where each
// defence lives; docs/SWITCHING.md is the guide for crypto/tls users, with
// net/http recipes; docs/CONFORMANCE.md and docs/PERFORMANCE.md report the
// BoGo results and the measurements beside crypto/tls.
package tlsflow
