package wire

import "golang.org/x/crypto/cryptobyte"

// ClientHello is RFC 5246 §7.4.1.2 / RFC 8446 §4.1.2.
type ClientHello struct {
	Version            uint16 // legacy_version
	Random             [32]byte
	SessionID          []byte   // legacy_session_id<0..32>
	CipherSuites       []uint16 // cipher_suites<2..2^16-2>
	CompressionMethods []uint8  // legacy_compression_methods<1..2^8-1>
	Extensions         Extensions
}

func (*ClientHello) Type() HandshakeType { return TypeClientHello }

// Marshal always writes an extensions block, zero-length if there are no
// extensions, which both TLS 1.2 and TLS 1.3 accept.
func (m *ClientHello) Marshal() ([]byte, error) {
	return marshalMessage(TypeClientHello, func(b *builder) {
		b.AddUint16(m.Version)
		b.AddBytes(m.Random[:])
		addOpaque8(b, m.SessionID)
		addUint16List16(b, m.CipherSuites)
		addOpaque8(b, m.CompressionMethods)
		if m.Extensions != nil { // nil: no extensions block at all (RFC 5246 §7.4.1.2)
			m.Extensions.marshal(b)
		}
	})
}

// Unmarshal also enforces RFC 8446 §4.2.11: pre_shared_key, if present, is
// the last extension (IllegalParameterError otherwise), which is what lets
// the binders be cut off the end of the message.
func (m *ClientHello) Unmarshal(msg []byte) error {
	s, err := readMessage(msg, TypeClientHello)
	if err != nil {
		return err
	}
	out, err := readClientHello(&s)
	if err != nil {
		return err
	}
	if !s.Empty() {
		return decodeErr("ClientHello", "trailing bytes")
	}
	*m = *out
	return nil
}

// Body is the ClientHello without its four-byte handshake header: what
// ECH encrypts and authenticates (draft-ietf-tls-esni-25 §5.1, §5.2).
func (m *ClientHello) Body() ([]byte, error) {
	raw, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	return raw[headerLen:], nil
}

// readClientHello reads one ClientHello body from s and leaves s after it.
func readClientHello(s *cryptobyte.String) (*ClientHello, error) {
	const name = "ClientHello"
	var out ClientHello
	switch {
	case !s.ReadUint16(&out.Version):
		return nil, decodeErr(name, "legacy_version")
	case !s.CopyBytes(out.Random[:]):
		return nil, decodeErr(name, "random")
	case !readOpaque8(s, &out.SessionID, 0, 32):
		return nil, decodeErr(name, "legacy_session_id")
	case !readUint16List16(s, &out.CipherSuites, 2, 1<<16-2):
		return nil, decodeErr(name, "cipher_suites")
	case !readOpaque8(s, &out.CompressionMethods, 1, 1<<8-1):
		return nil, decodeErr(name, "legacy_compression_methods")
	}
	var err error
	if out.Extensions, err = readHelloExtensions(s, name); err != nil {
		return nil, err
	}
	for i, ext := range out.Extensions {
		if ext.Type == ExtPreSharedKey && i != len(out.Extensions)-1 {
			return nil, illegalErr(name, "pre_shared_key is not the last extension")
		}
	}
	return &out, nil
}

// HelloRetryRequestRandom is the ServerHello.random that marks a
// HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
var HelloRetryRequestRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// ServerHello is RFC 5246 §7.4.1.3 / RFC 8446 §4.1.3. A HelloRetryRequest is
// a ServerHello whose Random is HelloRetryRequestRandom.
type ServerHello struct {
	Version     uint16   // legacy_version
	Random      [32]byte // also carries the RFC 8446 §4.1.3 downgrade sentinels
	SessionID   []byte   // legacy_session_id_echo<0..32>
	CipherSuite uint16
	Extensions  Extensions
}

func (*ServerHello) Type() HandshakeType { return TypeServerHello }

// IsHelloRetryRequest reports whether m is a HelloRetryRequest.
func (m *ServerHello) IsHelloRetryRequest() bool {
	return m.Random == HelloRetryRequestRandom
}

// Marshal writes legacy_compression_method 0, and the extensions block
// unless Extensions is nil: RFC 5246 §7.4.1.4 lets a TLS 1.2 ServerHello
// omit it, and a client that sent no extensions may not expect one. A
// parsed ServerHello keeps an empty block as a non-nil empty list. (A TLS
// 1.3 ServerHello always has supported_versions.)
func (m *ServerHello) Marshal() ([]byte, error) {
	return marshalMessage(TypeServerHello, func(b *builder) {
		b.AddUint16(m.Version)
		b.AddBytes(m.Random[:])
		addOpaque8(b, m.SessionID)
		b.AddUint16(m.CipherSuite)
		b.AddUint8(0) // legacy_compression_method: null
		if m.Extensions != nil {
			m.Extensions.marshal(b)
		}
	})
}

func (m *ServerHello) Unmarshal(msg []byte) error {
	const name = "ServerHello"
	s, err := readMessage(msg, TypeServerHello)
	if err != nil {
		return err
	}
	var out ServerHello
	var compression uint8
	switch {
	case !s.ReadUint16(&out.Version):
		return decodeErr(name, "legacy_version")
	case !s.CopyBytes(out.Random[:]):
		return decodeErr(name, "random")
	case !readOpaque8(&s, &out.SessionID, 0, 32):
		return decodeErr(name, "legacy_session_id_echo")
	case !s.ReadUint16(&out.CipherSuite):
		return decodeErr(name, "cipher_suite")
	case !s.ReadUint8(&compression):
		return decodeErr(name, "legacy_compression_method")
	}
	if out.Extensions, err = readHelloExtensions(&s, name); err != nil {
		return err
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	// TLS 1.3 (supported_versions present) fixes the byte at 0 (RFC 8446
	// §4.1.3: "MUST have the value 0"), so another value does not decode;
	// in TLS 1.2 the server may only pick a method the client offered
	// (RFC 5246 §7.4.1.3), which for tlsflow is null alone.
	if compression != 0 {
		if out.Extensions.Has(ExtSupportedVersions) {
			return decodeErr(name, "legacy_compression_method is not 0 in TLS 1.3")
		}
		return illegalErr(name, "legacy_compression_method is not null")
	}
	*m = out
	return nil
}

// readEmptyMessage reads a message whose body must be empty.
func readEmptyMessage(msg []byte, t HandshakeType) error {
	s, err := readMessage(msg, t)
	if err != nil {
		return err
	}
	if !s.Empty() {
		return decodeErr(t.String(), "trailing bytes")
	}
	return nil
}

func marshalEmptyMessage(t HandshakeType) []byte {
	return []byte{byte(t), 0, 0, 0}
}

// HelloRequest is RFC 5246 §7.4.1.1: struct { }.
type HelloRequest struct{}

func (*HelloRequest) Type() HandshakeType        { return TypeHelloRequest }
func (*HelloRequest) Marshal() ([]byte, error)   { return marshalEmptyMessage(TypeHelloRequest), nil }
func (*HelloRequest) Unmarshal(msg []byte) error { return readEmptyMessage(msg, TypeHelloRequest) }

// ServerHelloDone is RFC 5246 §7.4.5: struct { }.
type ServerHelloDone struct{}

func (*ServerHelloDone) Type() HandshakeType { return TypeServerHelloDone }
func (*ServerHelloDone) Marshal() ([]byte, error) {
	return marshalEmptyMessage(TypeServerHelloDone), nil
}
func (*ServerHelloDone) Unmarshal(msg []byte) error {
	return readEmptyMessage(msg, TypeServerHelloDone)
}

// EncryptedExtensions is RFC 8446 §4.3.1:
// Extension extensions<0..2^16-1>.
type EncryptedExtensions struct {
	Extensions Extensions
}

func (*EncryptedExtensions) Type() HandshakeType { return TypeEncryptedExtensions }

func (m *EncryptedExtensions) Marshal() ([]byte, error) {
	return marshalMessage(TypeEncryptedExtensions, m.Extensions.marshal)
}

func (m *EncryptedExtensions) Unmarshal(msg []byte) error {
	const name = "EncryptedExtensions"
	s, err := readMessage(msg, TypeEncryptedExtensions)
	if err != nil {
		return err
	}
	exts, err := readExtensions(&s, name, 0, 1<<16-1)
	if err != nil {
		return err
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	m.Extensions = exts
	return nil
}
