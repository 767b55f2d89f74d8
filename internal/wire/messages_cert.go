package wire

import "golang.org/x/crypto/cryptobyte"

// Certificate is the TLS 1.2 Certificate message, RFC 5246 §7.4.2:
// ASN.1Cert certificate_list<0..2^24-1>, each opaque ASN.1Cert<1..2^24-1>,
// sender's certificate first. An empty list is a client with no certificate.
type Certificate struct {
	Chain [][]byte
}

func (*Certificate) Type() HandshakeType { return TypeCertificate }

func (m *Certificate) Marshal() ([]byte, error) {
	return marshalMessage(TypeCertificate, func(b *builder) {
		b.AddUint24LengthPrefixed(func(b *builder) {
			for _, cert := range m.Chain {
				addOpaque24(b, cert)
			}
		})
	})
}

func (m *Certificate) Unmarshal(msg []byte) error {
	const name = "Certificate"
	s, err := readMessage(msg, TypeCertificate)
	if err != nil {
		return err
	}
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) {
		return decodeErr(name, "certificate_list")
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	var chain [][]byte
	for !list.Empty() {
		var cert []byte
		if !readOpaque24(&list, &cert, 1, 1<<24-1) {
			return decodeErr(name, "ASN.1Cert")
		}
		chain = append(chain, cert)
	}
	m.Chain = chain
	return nil
}

// CertificateEntry is RFC 8446 §4.4.2 CertificateEntry. Both of its forms
// are opaque<1..2^24-1>: Data is cert_data (X509) or
// ASN1_subjectPublicKeyInfo (RawPublicKey, RFC 7250), as the enclosing
// Certificate13's CertificateType says.
type CertificateEntry struct {
	Data       []byte // cert_data<1..2^24-1> or ASN1_subjectPublicKeyInfo<1..2^24-1>
	Extensions Extensions
}

// Certificate13 is the TLS 1.3 Certificate message, RFC 8446 §4.4.2.
type Certificate13 struct {
	// CertificateType is the select (certificate_type) of the entries: it
	// is not on the wire but negotiated (server_certificate_type or
	// client_certificate_type, RFC 7250), so whoever builds or reads the
	// message sets it. Zero is X509.
	CertificateType CertificateType
	Context         []byte // certificate_request_context<0..2^8-1>
	Entries         []CertificateEntry
}

func (*Certificate13) Type() HandshakeType { return TypeCertificate }

func (m *Certificate13) Marshal() ([]byte, error) {
	return marshalMessage(TypeCertificate, func(b *builder) {
		addOpaque8(b, m.Context)
		b.AddUint24LengthPrefixed(func(b *builder) { // certificate_list<0..2^24-1>
			for _, e := range m.Entries {
				addOpaque24(b, e.Data)
				e.Extensions.marshal(b)
			}
		})
	})
}

func (m *Certificate13) Unmarshal(msg []byte) error {
	const name = "Certificate"
	s, err := readMessage(msg, TypeCertificate)
	if err != nil {
		return err
	}
	var out Certificate13
	var list cryptobyte.String
	if !readOpaque8(&s, &out.Context, 0, 1<<8-1) {
		return decodeErr(name, "certificate_request_context")
	}
	if !s.ReadUint24LengthPrefixed(&list) {
		return decodeErr(name, "certificate_list")
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	for !list.Empty() {
		var e CertificateEntry
		if !readOpaque24(&list, &e.Data, 1, 1<<24-1) {
			return decodeErr(name, "cert_data")
		}
		if e.Extensions, err = readExtensions(&list, name, 0, 1<<16-1); err != nil {
			return err
		}
		out.Entries = append(out.Entries, e)
	}
	*m = out
	return nil
}

// CertificateRequest is the TLS 1.2 CertificateRequest, RFC 5246 §7.4.4.
type CertificateRequest struct {
	CertificateTypes       []uint8  // certificate_types<1..2^8-1>
	SignatureAlgorithms    []uint16 // supported_signature_algorithms<2..2^16-2>
	CertificateAuthorities [][]byte // DistinguishedName certificate_authorities<0..2^16-1>, each <1..2^16-1>
}

func (*CertificateRequest) Type() HandshakeType { return TypeCertificateRequest }

func (m *CertificateRequest) Marshal() ([]byte, error) {
	return marshalMessage(TypeCertificateRequest, func(b *builder) {
		addOpaque8(b, m.CertificateTypes)
		addUint16List16(b, m.SignatureAlgorithms)
		addDistinguishedNames(b, m.CertificateAuthorities)
	})
}

func (m *CertificateRequest) Unmarshal(msg []byte) error {
	const name = "CertificateRequest"
	s, err := readMessage(msg, TypeCertificateRequest)
	if err != nil {
		return err
	}
	var out CertificateRequest
	switch {
	case !readOpaque8(&s, &out.CertificateTypes, 1, 1<<8-1):
		return decodeErr(name, "certificate_types")
	case !readUint16List16(&s, &out.SignatureAlgorithms, 2, 1<<16-2):
		return decodeErr(name, "supported_signature_algorithms")
	case !readDistinguishedNames(&s, &out.CertificateAuthorities, 0):
		return decodeErr(name, "certificate_authorities")
	case !s.Empty():
		return decodeErr(name, "trailing bytes")
	}
	*m = out
	return nil
}

// CertificateRequest13 is the TLS 1.3 CertificateRequest, RFC 8446 §4.3.2.
// Extensions must include signature_algorithms; the engine checks that.
type CertificateRequest13 struct {
	Context    []byte // certificate_request_context<0..2^8-1>
	Extensions Extensions
}

func (*CertificateRequest13) Type() HandshakeType { return TypeCertificateRequest }

func (m *CertificateRequest13) Marshal() ([]byte, error) {
	return marshalMessage(TypeCertificateRequest, func(b *builder) {
		addOpaque8(b, m.Context)
		m.Extensions.marshal(b)
	})
}

func (m *CertificateRequest13) Unmarshal(msg []byte) error {
	const name = "CertificateRequest"
	s, err := readMessage(msg, TypeCertificateRequest)
	if err != nil {
		return err
	}
	var out CertificateRequest13
	if !readOpaque8(&s, &out.Context, 0, 1<<8-1) {
		return decodeErr(name, "certificate_request_context")
	}
	// extensions<2..2^16-1>: never empty, signature_algorithms is mandatory.
	if out.Extensions, err = readExtensions(&s, name, 2, 1<<16-1); err != nil {
		return err
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	*m = out
	return nil
}

// CertificateVerify is RFC 5246 §7.4.8 (a digitally-signed struct, RFC 5246
// §4.7) and RFC 8446 §4.4.3; the two share one encoding.
type CertificateVerify struct {
	SignatureScheme uint16 // TLS 1.2 SignatureAndHashAlgorithm, same code points
	Signature       []byte // signature<0..2^16-1>
}

func (*CertificateVerify) Type() HandshakeType { return TypeCertificateVerify }

func (m *CertificateVerify) Marshal() ([]byte, error) {
	return marshalMessage(TypeCertificateVerify, func(b *builder) {
		b.AddUint16(m.SignatureScheme)
		addOpaque16(b, m.Signature)
	})
}

func (m *CertificateVerify) Unmarshal(msg []byte) error {
	const name = "CertificateVerify"
	s, err := readMessage(msg, TypeCertificateVerify)
	if err != nil {
		return err
	}
	var out CertificateVerify
	switch {
	case !s.ReadUint16(&out.SignatureScheme):
		return decodeErr(name, "algorithm")
	case !readOpaque16(&s, &out.Signature, 0, 1<<16-1):
		return decodeErr(name, "signature")
	case !s.Empty():
		return decodeErr(name, "trailing bytes")
	}
	*m = out
	return nil
}
