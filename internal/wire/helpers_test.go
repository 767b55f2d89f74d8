package wire

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// unhex decodes hex written with optional spaces, as the RFCs print it.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// frame wraps a hex body in a handshake header with the right length.
func frame(t testing.TB, typ HandshakeType, bodyHex string) []byte {
	t.Helper()
	body := unhex(t, bodyHex)
	return append([]byte{byte(typ), byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

// reframe puts body behind a header of type typ declaring exactly len(body).
func reframe(typ HandshakeType, body []byte) []byte {
	out := []byte{byte(typ), byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	return append(out, body...)
}

// seq returns n bytes counting up from start, so fields are easy to tell apart.
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func random32(start byte) (r [32]byte) {
	copy(r[:], seq(start, 32))
	return r
}

// errorParts returns the Message and Field of a wire error, and whether it
// is an IllegalParameterError; ok is false for any other error.
func errorParts(err error) (message, field string, illegal, ok bool) {
	var de *DecodeError
	var ie *IllegalParameterError
	switch {
	case errors.As(err, &de):
		return de.Message, de.Field, false, true
	case errors.As(err, &ie):
		return ie.Message, ie.Field, true, true
	}
	return "", "", false, false
}

// wantDecodeError fails unless err is a *DecodeError for message whose Field
// contains field.
func wantDecodeError(t *testing.T, err error, message, field string) {
	t.Helper()
	msg, f, illegal, ok := errorParts(err)
	if !ok || illegal || msg != message || !strings.Contains(f, field) {
		t.Fatalf("error = %v, want DecodeError{%q, %q}", err, message, field)
	}
}

// wantIllegalParameter fails unless err is an *IllegalParameterError for
// message whose Field contains field.
func wantIllegalParameter(t *testing.T, err error, message, field string) {
	t.Helper()
	msg, f, illegal, ok := errorParts(err)
	if !ok || !illegal || msg != message || !strings.Contains(f, field) {
		t.Fatalf("error = %v, want IllegalParameterError{%q, %q}", err, message, field)
	}
}

// sample is a populated message and a constructor for an empty one of the
// same type.
type sample struct {
	name  string
	msg   Message
	fresh func() Message
	// optionalTail is the body length at which a shorter body is still valid
	// (a TLS 1.2 hello without extensions), or 0 if there is none.
	optionalTail int
}

// samples returns one populated value of every message type (two for types
// with a notable empty form). Empty vectors are nil, as Unmarshal leaves them.
func samples() []sample {
	var chExts Extensions
	chExts.Add(ExtServerName, ServerName{HostName: "example.com"})
	chExts.Add(ExtSupportedGroups, SupportedGroups{0x001d, 0x0017, 0x11ec})
	chExts.Add(ExtKeyShare, KeyShareClientHello{{Group: 0x001d, KeyExchange: seq(0x40, 32)}})
	chExts.Add(ExtSupportedVersions, SupportedVersionsClient{0x0304, 0x0303})
	chExts.AddEmpty(ExtExtendedMasterSecret)
	chExts.Add(ExtPreSharedKey, PreSharedKeyClientHello{
		Identities: []PSKIdentity{{Identity: seq(0x80, 40), ObfuscatedTicketAge: 0x01020304}},
		Binders:    [][]byte{seq(0xa0, 32)},
	})

	var shExts Extensions
	shExts.Add(ExtKeyShare, KeyShareServerHello{Group: 0x001d, KeyExchange: seq(0x60, 32)})
	shExts.Add(ExtSupportedVersions, SupportedVersionServer(0x0304))

	var hrrExts Extensions
	hrrExts.Add(ExtKeyShare, KeyShareHelloRetryRequest{SelectedGroup: 0x0017})
	hrrExts.Add(ExtCookie, Cookie(seq(1, 20)))

	var eeExts Extensions
	eeExts.Add(ExtALPN, ALPN{"h2"})
	eeExts.AddEmpty(ExtServerName)

	var entryExts Extensions
	entryExts.Add(ExtStatusRequest, RenegotiationInfo(seq(9, 3))) // any opaque data will do

	var crExts Extensions
	crExts.Add(ExtSignatureAlgorithms, SignatureAlgorithms{0x0403, 0x0804})
	crExts.Add(ExtCertificateAuthorities, CertificateAuthorities{seq(0x30, 10)})

	var nstExts Extensions
	nstExts.Add(ExtEarlyData, EarlyDataIndication{MaxEarlyDataSize: 16384, InNewSessionTicket: true})

	ch := &ClientHello{
		Version:            0x0303,
		Random:             random32(0),
		SessionID:          seq(0xe0, 32),
		CipherSuites:       []uint16{0x1301, 0x1303, 0xc02f},
		CompressionMethods: []uint8{0},
		Extensions:         chExts,
	}
	ch12 := &ClientHello{
		Version:            0x0303,
		Random:             random32(0x20),
		CipherSuites:       []uint16{0xc02f},
		CompressionMethods: []uint8{1, 0},
	}
	sh := &ServerHello{Version: 0x0303, Random: random32(0x40), SessionID: seq(0xe0, 32), CipherSuite: 0x1301, Extensions: shExts}
	sh12 := &ServerHello{Version: 0x0303, Random: random32(0x60), CipherSuite: 0xc02f}
	hrr := &ServerHello{Version: 0x0303, Random: HelloRetryRequestRandom, CipherSuite: 0x1302, Extensions: hrrExts}

	helloTail := func(m Message) int {
		switch m := m.(type) {
		case *ClientHello:
			return 2 + 32 + 1 + len(m.SessionID) + 2 + 2*len(m.CipherSuites) + 1 + len(m.CompressionMethods)
		case *ServerHello:
			return 2 + 32 + 1 + len(m.SessionID) + 2 + 1
		}
		return 0
	}
	newCH := func() Message { return new(ClientHello) }
	newSH := func() Message { return new(ServerHello) }

	return []sample{
		{"ClientHello", ch, newCH, helloTail(ch)},
		{"ClientHello without extensions", ch12, newCH, helloTail(ch12)},
		{"ServerHello", sh, newSH, helloTail(sh)},
		{"ServerHello without extensions", sh12, newSH, helloTail(sh12)},
		{"HelloRetryRequest", hrr, newSH, helloTail(hrr)},
		{"HelloRequest", &HelloRequest{}, func() Message { return new(HelloRequest) }, 0},
		{"ServerHelloDone", &ServerHelloDone{}, func() Message { return new(ServerHelloDone) }, 0},
		{"EncryptedExtensions", &EncryptedExtensions{Extensions: eeExts}, func() Message { return new(EncryptedExtensions) }, 0},
		{"EncryptedExtensions empty", &EncryptedExtensions{}, func() Message { return new(EncryptedExtensions) }, 0},
		{"Certificate", &Certificate{Chain: [][]byte{seq(0x30, 300), seq(0x31, 2)}}, func() Message { return new(Certificate) }, 0},
		{"Certificate empty", &Certificate{}, func() Message { return new(Certificate) }, 0},
		{"Certificate13", &Certificate13{
			Context: seq(7, 5),
			Entries: []CertificateEntry{{Data: seq(0x30, 300), Extensions: entryExts}, {Data: seq(0x31, 1)}},
		}, func() Message { return new(Certificate13) }, 0},
		{"Certificate13 empty", &Certificate13{}, func() Message { return new(Certificate13) }, 0},
		{"RawPublicKeyCertificate12", &RawPublicKeyCertificate12{SubjectPublicKeyInfo: seq(0x30, 91)},
			func() Message { return new(RawPublicKeyCertificate12) }, 0},
		{"RawPublicKeyCertificate12 empty", &RawPublicKeyCertificate12{}, func() Message { return new(RawPublicKeyCertificate12) }, 0},
		{"CertificateRequest", &CertificateRequest{
			CertificateTypes:       []uint8{1, 64},
			SignatureAlgorithms:    []uint16{0x0401, 0x0403},
			CertificateAuthorities: [][]byte{seq(0x30, 20), seq(0x30, 1)},
		}, func() Message { return new(CertificateRequest) }, 0},
		{"CertificateRequest13", &CertificateRequest13{Context: seq(3, 8), Extensions: crExts}, func() Message { return new(CertificateRequest13) }, 0},
		{"CertificateVerify", &CertificateVerify{SignatureScheme: 0x0804, Signature: seq(0, 256)}, func() Message { return new(CertificateVerify) }, 0},
		{"ServerKeyExchange", &ServerKeyExchange{Group: 0x0017, PublicKey: append([]byte{4}, seq(1, 64)...), SignatureScheme: 0x0403, Signature: seq(0x70, 71)}, func() Message { return new(ServerKeyExchange) }, 0},
		{"ClientKeyExchangeRSA", &ClientKeyExchangeRSA{EncryptedPreMasterSecret: seq(0x11, 256)}, func() Message { return new(ClientKeyExchangeRSA) }, 0},
		{"ClientKeyExchangeECDHE", &ClientKeyExchangeECDHE{PublicKey: seq(0x22, 32)}, func() Message { return new(ClientKeyExchangeECDHE) }, 0},
		{"Finished", &Finished{VerifyData: seq(0xf0, 12)}, func() Message { return new(Finished) }, 0},
		{"EndOfEarlyData", &EndOfEarlyData{}, func() Message { return new(EndOfEarlyData) }, 0},
		{"NewSessionTicket", &NewSessionTicket{LifetimeHint: 7200, Ticket: seq(0x50, 100)}, func() Message { return new(NewSessionTicket) }, 0},
		{"NewSessionTicket empty ticket", &NewSessionTicket{LifetimeHint: 0}, func() Message { return new(NewSessionTicket) }, 0},
		{"NewSessionTicket13", &NewSessionTicket13{Lifetime: 604800, AgeAdd: 0xdeadbeef, Nonce: seq(0, 8), Ticket: seq(0x50, 100), Extensions: nstExts}, func() Message { return new(NewSessionTicket13) }, 0},
		{"KeyUpdate", &KeyUpdate{RequestUpdate: UpdateRequested}, func() Message { return new(KeyUpdate) }, 0},
		{"CertificateStatus", &CertificateStatusMessage{CertificateStatus{OCSPResponse: seq(0x30, 40)}}, func() Message { return new(CertificateStatusMessage) }, 0},
	}
}

// must returns what a Marshal built, and panics if it failed: in these
// tests every value marshals.
func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
