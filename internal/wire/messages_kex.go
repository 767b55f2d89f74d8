package wire

// curveTypeNamedCurve is RFC 8422 §5.4 ECCurveType named_curve, "now the only
// remaining format": the explicit prime and char2 curve types are deprecated.
const curveTypeNamedCurve = 3

// ServerKeyExchange is the TLS 1.2 ServerKeyExchange for ECDHE suites,
// RFC 8422 §5.4: ServerECDHParams followed by a digitally-signed signature
// (RFC 5246 §4.7, §7.4.3) over client_random + server_random + params.
//
// Unmarshal rejects a curve_type other than named_curve with an
// IllegalParameterError: the byte parses, but RFC 8422 leaves named_curve as
// the only format, and what follows any other value has no defined layout.
type ServerKeyExchange struct {
	Group           uint16 // named_curve
	PublicKey       []byte // ECPoint point<1..2^8-1>
	SignatureScheme uint16 // SignatureAndHashAlgorithm
	Signature       []byte // signature<0..2^16-1>
}

func (*ServerKeyExchange) Type() HandshakeType { return TypeServerKeyExchange }

// Params returns the encoded ServerECDHParams (curve_type, named_curve,
// point), the part of the message the signature covers.
func (m *ServerKeyExchange) Params() ([]byte, error) {
	b := newBuilder(4 + 255)
	m.addParams(b)
	return b.result("ServerKeyExchange params")
}

func (m *ServerKeyExchange) addParams(b *builder) {
	b.AddUint8(curveTypeNamedCurve)
	b.AddUint16(m.Group)
	addOpaque8(b, m.PublicKey)
}

func (m *ServerKeyExchange) Marshal() ([]byte, error) {
	return marshalMessage(TypeServerKeyExchange, func(b *builder) {
		m.addParams(b)
		b.AddUint16(m.SignatureScheme)
		addOpaque16(b, m.Signature)
	})
}

func (m *ServerKeyExchange) Unmarshal(msg []byte) error {
	const name = "ServerKeyExchange"
	s, err := readMessage(msg, TypeServerKeyExchange)
	if err != nil {
		return err
	}
	var out ServerKeyExchange
	var curveType uint8
	if !s.ReadUint8(&curveType) {
		return decodeErr(name, "curve_type")
	}
	if curveType != curveTypeNamedCurve {
		return illegalErr(name, "curve_type is not named_curve")
	}
	switch {
	case !s.ReadUint16(&out.Group):
		return decodeErr(name, "named_curve")
	case !readOpaque8(&s, &out.PublicKey, 1, 1<<8-1):
		return decodeErr(name, "point")
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

// ClientKeyExchangeRSA is the RSA-key-transport ClientKeyExchange,
// RFC 5246 §7.4.7.1: EncryptedPreMasterSecret as an opaque<0..2^16-1> whose
// content is the RSA ciphertext. Unmarshal rejects an empty ciphertext, which
// no RSA key can produce.
type ClientKeyExchangeRSA struct {
	EncryptedPreMasterSecret []byte
}

func (*ClientKeyExchangeRSA) Type() HandshakeType { return TypeClientKeyExchange }

func (m *ClientKeyExchangeRSA) Marshal() ([]byte, error) {
	return marshalMessage(TypeClientKeyExchange, func(b *builder) {
		addOpaque16(b, m.EncryptedPreMasterSecret)
	})
}

func (m *ClientKeyExchangeRSA) Unmarshal(msg []byte) error {
	const name = "ClientKeyExchange"
	s, err := readMessage(msg, TypeClientKeyExchange)
	if err != nil {
		return err
	}
	var epms []byte
	if !readOpaque16(&s, &epms, 1, 1<<16-1) {
		return decodeErr(name, "EncryptedPreMasterSecret")
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	m.EncryptedPreMasterSecret = epms
	return nil
}

// ClientKeyExchangeECDHE is the ECDHE ClientKeyExchange, RFC 8422 §5.7:
// ClientECDiffieHellmanPublic, ECPoint ecdh_Yc<1..2^8-1>.
type ClientKeyExchangeECDHE struct {
	PublicKey []byte
}

func (*ClientKeyExchangeECDHE) Type() HandshakeType { return TypeClientKeyExchange }

func (m *ClientKeyExchangeECDHE) Marshal() ([]byte, error) {
	return marshalMessage(TypeClientKeyExchange, func(b *builder) {
		addOpaque8(b, m.PublicKey)
	})
}

func (m *ClientKeyExchangeECDHE) Unmarshal(msg []byte) error {
	const name = "ClientKeyExchange"
	s, err := readMessage(msg, TypeClientKeyExchange)
	if err != nil {
		return err
	}
	var point []byte
	if !readOpaque8(&s, &point, 1, 1<<8-1) {
		return decodeErr(name, "ecdh_Yc")
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	m.PublicKey = point
	return nil
}
