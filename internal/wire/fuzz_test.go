package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// checkMessage is the property every message fuzz target checks: Unmarshal
// never panics and fails only with a wire error naming the message; whatever
// it accepts marshals back to the input (a hello that omitted its extensions
// block gains an empty one), and that parses to an equal value.
func checkMessage(t *testing.T, in []byte, fresh func() Message) {
	m := fresh()
	if err := m.Unmarshal(in); err != nil {
		if msg, _, _, ok := errorParts(err); !ok || msg != m.Type().String() {
			t.Fatalf("error %v is not a wire error naming %v", err, m.Type())
		}
		return
	}
	out := must(m.Marshal())
	if !bytes.Equal(out, in) && !addedEmptyExtensions(in, out) {
		t.Fatalf("Marshal(Unmarshal(x)) != x:\n  in %x\n out %x", in, out)
	}
	m2 := fresh()
	if err := m2.Unmarshal(out); err != nil {
		t.Fatalf("re-Unmarshal of %x: %v", out, err)
	}
	if !reflect.DeepEqual(m, m2) {
		t.Fatalf("re-Unmarshal changed the value:\n%+v\n%+v", m, m2)
	}
}

// addedEmptyExtensions reports whether out is in plus a zero-length
// extensions block, as Marshal writes for a TLS 1.2 hello that had none.
func addedEmptyExtensions(in, out []byte) bool {
	if len(out) != len(in)+2 || (in[0] != byte(TypeClientHello) && in[0] != byte(TypeServerHello)) {
		return false
	}
	return bytes.Equal(out[4:len(in)], in[4:]) && out[len(out)-2] == 0 && out[len(out)-1] == 0
}

// addSeeds seeds f with every sample and RFC 8448 vector of type typ.
func addSeeds(f *testing.F, typ HandshakeType) {
	for _, s := range samples() {
		if s.msg.Type() == typ {
			f.Add(must(s.msg.Marshal()))
		}
	}
	for _, h := range []string{
		rfc8448ClientHello, rfc8448ServerHello, rfc8448EncryptedExtensions, rfc8448Certificate,
		rfc8448CertificateVerify, rfc8448ServerFinished, rfc8448NewSessionTicket, rfc8448ResumeClientHello,
		rfc8448ResumeServerHello, rfc8448ResumeEncryptedExtensions, rfc8448EndOfEarlyData,
		rfc8448HelloRetryRequest, rfc8448RetryClientHello, rfc8448CertificateRequest,
		rfc8448ClientCertificateVerify, rfc8448CompatClientHello, rfc8448CompatServerHello,
	} {
		if b := unhex(f, h); HandshakeType(b[0]) == typ {
			f.Add(b)
		}
	}
}

func FuzzClientHello(f *testing.F) {
	addSeeds(f, TypeClientHello)
	f.Fuzz(func(t *testing.T, in []byte) { checkMessage(t, in, func() Message { return new(ClientHello) }) })
}

func FuzzServerHello(f *testing.F) {
	addSeeds(f, TypeServerHello)
	f.Fuzz(func(t *testing.T, in []byte) { checkMessage(t, in, func() Message { return new(ServerHello) }) })
}

func FuzzCertificate(f *testing.F) {
	addSeeds(f, TypeCertificate)
	f.Fuzz(func(t *testing.T, in []byte) { checkMessage(t, in, func() Message { return new(Certificate) }) })
}

func FuzzCertificate13(f *testing.F) {
	addSeeds(f, TypeCertificate)
	f.Fuzz(func(t *testing.T, in []byte) { checkMessage(t, in, func() Message { return new(Certificate13) }) })
}

// FuzzRawPublicKeyCertificate12 reads the TLS 1.2 Certificate of RFC 7250
// (one SubjectPublicKeyInfo, no list), seeded with every Certificate form.
func FuzzRawPublicKeyCertificate12(f *testing.F) {
	addSeeds(f, TypeCertificate)
	f.Fuzz(func(t *testing.T, in []byte) {
		checkMessage(t, in, func() Message { return new(RawPublicKeyCertificate12) })
	})
}

func FuzzCertificateRequest(f *testing.F) {
	addSeeds(f, TypeCertificateRequest)
	f.Fuzz(func(t *testing.T, in []byte) {
		checkMessage(t, in, func() Message { return new(CertificateRequest) })
		checkMessage(t, in, func() Message { return new(CertificateRequest13) })
	})
}

func FuzzServerKeyExchange(f *testing.F) {
	addSeeds(f, TypeServerKeyExchange)
	f.Fuzz(func(t *testing.T, in []byte) { checkMessage(t, in, func() Message { return new(ServerKeyExchange) }) })
}

func FuzzNewSessionTicket13(f *testing.F) {
	addSeeds(f, TypeNewSessionTicket)
	f.Fuzz(func(t *testing.T, in []byte) { checkMessage(t, in, func() Message { return new(NewSessionTicket13) }) })
}

// messageDecoders lists, per type byte, every message type that reads it.
var messageDecoders = map[HandshakeType][]func() Message{
	TypeHelloRequest:          {func() Message { return new(HelloRequest) }},
	TypeClientHello:           {func() Message { return new(ClientHello) }},
	TypeServerHello:           {func() Message { return new(ServerHello) }},
	TypeNewSessionTicket:      {func() Message { return new(NewSessionTicket) }, func() Message { return new(NewSessionTicket13) }},
	TypeEndOfEarlyData:        {func() Message { return new(EndOfEarlyData) }},
	TypeEncryptedExtensions:   {func() Message { return new(EncryptedExtensions) }},
	TypeCertificate:           {func() Message { return new(Certificate) }, func() Message { return new(Certificate13) }},
	TypeServerKeyExchange:     {func() Message { return new(ServerKeyExchange) }},
	TypeCertificateRequest:    {func() Message { return new(CertificateRequest) }, func() Message { return new(CertificateRequest13) }},
	TypeServerHelloDone:       {func() Message { return new(ServerHelloDone) }},
	TypeCertificateVerify:     {func() Message { return new(CertificateVerify) }},
	TypeClientKeyExchange:     {func() Message { return new(ClientKeyExchangeRSA) }, func() Message { return new(ClientKeyExchangeECDHE) }},
	TypeFinished:              {func() Message { return new(Finished) }},
	TypeKeyUpdate:             {func() Message { return new(KeyUpdate) }},
	TypeCertificateStatus:     {func() Message { return new(CertificateStatusMessage) }},
	TypeCompressedCertificate: {func() Message { return new(CompressedCertificate) }},
}

// FuzzMessages dispatches on the type byte to every message type, covering
// the ones without a target of their own.
func FuzzMessages(f *testing.F) {
	for typ := range messageDecoders {
		addSeeds(f, typ)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		for _, fresh := range messageDecoders[HandshakeType(in[0])] {
			checkMessage(t, in, fresh)
		}
	})
}

// extensionDecoders lists every typed extension_data codec.
var extensionDecoders = []func() ExtensionData{
	func() ExtensionData { return new(ServerName) },
	func() ExtensionData { return new(SupportedGroups) },
	func() ExtensionData { return new(ECPointFormats) },
	func() ExtensionData { return new(SignatureAlgorithms) },
	func() ExtensionData { return new(ALPN) },
	func() ExtensionData { return new(RenegotiationInfo) },
	func() ExtensionData { return new(SupportedVersionsClient) },
	func() ExtensionData { return new(SupportedVersionServer) },
	func() ExtensionData { return new(KeyShareClientHello) },
	func() ExtensionData { return new(KeyShareServerHello) },
	func() ExtensionData { return new(KeyShareHelloRetryRequest) },
	func() ExtensionData { return new(PSKKeyExchangeModes) },
	func() ExtensionData { return new(PreSharedKeyClientHello) },
	func() ExtensionData { return new(PreSharedKeyServerHello) },
	func() ExtensionData { return new(Cookie) },
	func() ExtensionData { return new(CertificateAuthorities) },
	func() ExtensionData { return new(EarlyDataIndication) },
	func() ExtensionData { return new(StatusRequest) },
	func() ExtensionData { return new(CertificateStatusExt) },
	func() ExtensionData { return new(SignedCertificateTimestamps) },
	func() ExtensionData { return new(RecordSizeLimit) },
	func() ExtensionData { return new(CertificateCompressionAlgorithms) },
	func() ExtensionData { return &CertificateTypeList{Ext: ExtClientCertificateType} },
	func() ExtensionData { return &CertificateTypeSelected{Ext: ExtServerCertificateType} },
}

// FuzzExtensions reads in both as an extensions block and as the
// extension_data of every typed codec. Accepted input must marshal back to
// itself (ServerName excepted: it drops name types other than host_name) and
// parse again to an equal value.
func FuzzExtensions(f *testing.F) {
	for _, s := range extSamples() {
		f.Add(unhex(f, s.hex))
	}
	for _, s := range samples() {
		if ee, ok := s.msg.(*EncryptedExtensions); ok {
			f.Add(must(ee.Marshal())[4:])
		}
	}
	f.Add(unhex(f, rfc8448EncryptedExtensions)[4:])
	f.Fuzz(func(t *testing.T, in []byte) {
		checkMessage(t, reframe(TypeEncryptedExtensions, in), func() Message { return new(EncryptedExtensions) })
		for _, fresh := range extensionDecoders {
			v := fresh()
			if err := v.Unmarshal(in); err != nil {
				if _, _, _, ok := errorParts(err); !ok {
					t.Fatalf("%T: error %v is not a wire error", v, err)
				}
				continue
			}
			out := must(v.Marshal())
			if _, isSNI := v.(*ServerName); !isSNI && !bytes.Equal(out, in) {
				t.Fatalf("%T: Marshal(Unmarshal(x)) != x:\n  in %x\n out %x", v, in, out)
			}
			v2 := fresh()
			if err := v2.Unmarshal(out); err != nil {
				t.Fatalf("%T: re-Unmarshal of %x: %v", v, out, err)
			}
			if !reflect.DeepEqual(v, v2) {
				t.Fatalf("%T: re-Unmarshal changed the value: %+v, %+v", v, v, v2)
			}
		}
	})
}
