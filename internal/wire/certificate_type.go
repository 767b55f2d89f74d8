package wire

import (
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// CertificateType is RFC 7250 §3 / RFC 8446 §4.4.2 CertificateType, from
// the IANA "TLS Certificate Types" registry.
type CertificateType = uint8

const (
	CertificateTypeX509         CertificateType = 0 // RFC 5246, the default
	CertificateTypeRawPublicKey CertificateType = 2 // RFC 7250
)

// CertificateTypeName names a certificate type for people and traces.
func CertificateTypeName(t CertificateType) string {
	switch t {
	case CertificateTypeX509:
		return "X509"
	case CertificateTypeRawPublicKey:
		return "RawPublicKey"
	}
	return "CertificateType(" + strconv.Itoa(int(t)) + ")"
}

// CertificateTypeList is RFC 7250 §3's client form of client_certificate_type
// and server_certificate_type, in preference order:
//
//	CertificateType client_certificate_types<1..2^8-1>;
//	CertificateType server_certificate_types<1..2^8-1>;
//
// Ext says which of the two it is, for error messages. An empty list is
// outside the vector's bounds (decode_error, RFC 8446 §6.2). A list of
// X.509 alone is one the client "MUST omit" (RFC 7250 §4.1): it parses,
// but is illegal_parameter. Unknown types are kept: the server ignores
// what it does not know and chooses among the rest.
type CertificateTypeList struct {
	Ext   ExtensionType
	Types []CertificateType
}

func (l CertificateTypeList) Marshal() ([]byte, error) {
	return marshalExt(l.Ext, func(b *builder) { addOpaque8(b, l.Types) })
}

func (l *CertificateTypeList) Unmarshal(data []byte) error {
	name := extName(l.Ext)
	s := cryptobyte.String(data)
	var types []byte
	if !readOpaque8(&s, &types, 1, 1<<8-1) {
		return decodeErr(name, "certificate_types")
	}
	if err := extEnd(s, l.Ext); err != nil {
		return err
	}
	if len(types) == 1 && types[0] == CertificateTypeX509 {
		return illegalErr(name, "a list of X509 alone, which the client must omit (RFC 7250 §4.1)")
	}
	l.Types = types
	return nil
}

// CertificateTypeSelected is RFC 7250 §3's server form of the two
// extensions, in a TLS 1.2 ServerHello or TLS 1.3 EncryptedExtensions:
//
//	CertificateType client_certificate_type;
//	CertificateType server_certificate_type;
type CertificateTypeSelected struct {
	Ext  ExtensionType
	Type CertificateType
}

func (c CertificateTypeSelected) Marshal() ([]byte, error) {
	return marshalExt(c.Ext, func(b *builder) { b.AddUint8(c.Type) })
}

func (c *CertificateTypeSelected) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	if !s.ReadUint8(&c.Type) {
		return decodeErr(extName(c.Ext), "certificate_type")
	}
	return extEnd(s, c.Ext)
}

// RawPublicKeyCertificate12 is the TLS 1.2 Certificate message of a sender
// whose certificate type is RawPublicKey (RFC 7250 §3, Figure 1): no list,
// the one key itself,
//
//	opaque ASN.1_subjectPublicKeyInfo<1..2^24-1>;
//
// The figure has no empty form, yet a client asked for a key it does not
// have must still answer (RFC 5246 §7.4.6): it sends the key empty, as it
// would send an empty certificate_list. So an empty key parses here, and
// the engine reads it as "no certificate" from a client and refuses it
// from a server. (TLS 1.3 keeps its CertificateEntry list, Certificate13.)
type RawPublicKeyCertificate12 struct {
	SubjectPublicKeyInfo []byte // DER; empty: no key
}

func (*RawPublicKeyCertificate12) Type() HandshakeType { return TypeCertificate }

func (m *RawPublicKeyCertificate12) Marshal() ([]byte, error) {
	return marshalMessage(TypeCertificate, func(b *builder) { addOpaque24(b, m.SubjectPublicKeyInfo) })
}

func (m *RawPublicKeyCertificate12) Unmarshal(msg []byte) error {
	const name = "Certificate"
	s, err := readMessage(msg, TypeCertificate)
	if err != nil {
		return err
	}
	var spki []byte
	if !readOpaque24(&s, &spki, 0, 1<<24-1) {
		return decodeErr(name, "ASN.1_subjectPublicKeyInfo")
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	m.SubjectPublicKeyInfo = spki
	return nil
}
