package wire

import "golang.org/x/crypto/cryptobyte"

// Encrypted Client Hello, draft-ietf-tls-esni-25: the configuration a
// client-facing server publishes (§4), the extension in both ClientHellos
// (§5), its answers in EncryptedExtensions and HelloRetryRequest, and the
// compression of the inner hello's extensions (§5.1).

// ECHVersion is the ECHConfig.version this draft defines, the same code
// point as the extension (§4).
const ECHVersion = uint16(ExtEncryptedClientHello)

// HPKESymmetricCipherSuite is §4 HpkeSymmetricCipherSuite.
type HPKESymmetricCipherSuite struct {
	KDF  uint16 // HpkeKdfId (RFC 9180 §7.2)
	AEAD uint16 // HpkeAeadId (RFC 9180 §7.3)
}

// ECHConfigExtension is §4 ECHConfigExtension. A type with the high bit set
// is mandatory: a client that does not know it ignores the whole config
// (§4.2).
type ECHConfigExtension struct {
	Type uint16
	Data []byte // opaque data<0..2^16-1>
}

// Mandatory reports whether a client that does not understand the
// extension must ignore the config that carries it (§4.2).
func (e ECHConfigExtension) Mandatory() bool { return e.Type&0x8000 != 0 }

// ECHConfig is §4 ECHConfig. Contents are parsed only for ECHVersion; a
// config of another version keeps only Version and Raw, for a client to
// skip ("Clients MUST ignore any ECHConfig structure with a version they
// do not support").
type ECHConfig struct {
	Raw     []byte // the whole ECHConfig as it was read or built: HPKE's info binds it
	Version uint16

	// ECHConfigContents (version 0xfe0d).
	ConfigID      uint8                      // key_config.config_id
	KEM           uint16                     // key_config.kem_id
	PublicKey     []byte                     // key_config.public_key<1..2^16-1>
	CipherSuites  []HPKESymmetricCipherSuite // key_config.cipher_suites<4..2^16-4>
	MaxNameLength uint8                      // maximum_name_length
	PublicName    []byte                     // public_name<1..255>
	Extensions    []ECHConfigExtension       // extensions<0..2^16-1>
}

// Marshal builds the ECHConfig of version ECHVersion from its contents;
// Raw is not consulted.
func (c *ECHConfig) Marshal() ([]byte, error) {
	b := newBuilder(128)
	b.AddUint16(ECHVersion)
	b.AddUint16LengthPrefixed(func(b *builder) {
		b.AddUint8(c.ConfigID)
		b.AddUint16(c.KEM)
		addOpaque16(b, c.PublicKey)
		b.AddUint16LengthPrefixed(func(b *builder) {
			for _, cs := range c.CipherSuites {
				b.AddUint16(cs.KDF)
				b.AddUint16(cs.AEAD)
			}
		})
		b.AddUint8(c.MaxNameLength)
		addOpaque8(b, c.PublicName)
		b.AddUint16LengthPrefixed(func(b *builder) {
			for _, e := range c.Extensions {
				b.AddUint16(e.Type)
				addOpaque16(b, e.Data)
			}
		})
	})
	return b.result("ECHConfig")
}

// MarshalECHConfigList is §4 "ECHConfig ECHConfigList<4..2^16-1>" of
// configs already serialized.
func MarshalECHConfigList(configs ...[]byte) ([]byte, error) {
	b := newBuilder(256)
	b.AddUint16LengthPrefixed(func(b *builder) {
		for _, c := range configs {
			b.AddBytes(c)
		}
	})
	return b.result("ECHConfigList")
}

// ParseECHConfigList reads an ECHConfigList. Every config must be well
// formed, including those of versions it does not parse the contents of
// (their length must fit); the list itself must hold at least one.
func ParseECHConfigList(data []byte) ([]ECHConfig, error) {
	const name = "ECHConfigList"
	s := cryptobyte.String(data)
	var list cryptobyte.String
	if !readVector16(&s, &list, 4, 1<<16-1) || !s.Empty() {
		return nil, decodeErr(name, "ECHConfigList<4..2^16-1>")
	}
	var out []ECHConfig
	for !list.Empty() {
		c, err := readECHConfig(&list)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseECHConfig reads exactly one ECHConfig (a server's key is configured
// with its config alone).
func ParseECHConfig(data []byte) (ECHConfig, error) {
	s := cryptobyte.String(data)
	c, err := readECHConfig(&s)
	if err == nil && !s.Empty() {
		err = decodeErr("ECHConfig", "trailing bytes")
	}
	return c, err
}

func readECHConfig(s *cryptobyte.String) (ECHConfig, error) {
	const name = "ECHConfig"
	start := *s
	var c ECHConfig
	var contents cryptobyte.String
	if !s.ReadUint16(&c.Version) || !s.ReadUint16LengthPrefixed(&contents) {
		return c, decodeErr(name, "version or length")
	}
	c.Raw = clip(start[:len(start)-len(*s)])
	if c.Version != ECHVersion {
		return c, nil
	}
	var suites, exts cryptobyte.String
	switch {
	case !contents.ReadUint8(&c.ConfigID) || !contents.ReadUint16(&c.KEM):
		return c, decodeErr(name, "key_config")
	case !readOpaque16(&contents, &c.PublicKey, 1, 1<<16-1):
		return c, decodeErr(name, "public_key")
	case !readVector16(&contents, &suites, 4, 1<<16-4) || len(suites)%4 != 0:
		return c, decodeErr(name, "cipher_suites")
	case !contents.ReadUint8(&c.MaxNameLength):
		return c, decodeErr(name, "maximum_name_length")
	case !readOpaque8(&contents, &c.PublicName, 1, 255):
		return c, decodeErr(name, "public_name")
	case !readVector16(&contents, &exts, 0, 1<<16-1):
		return c, decodeErr(name, "extensions")
	case !contents.Empty():
		return c, decodeErr(name, "trailing bytes in ECHConfigContents")
	}
	for !suites.Empty() {
		var cs HPKESymmetricCipherSuite
		suites.ReadUint16(&cs.KDF)
		suites.ReadUint16(&cs.AEAD)
		c.CipherSuites = append(c.CipherSuites, cs)
	}
	seen := make(map[uint16]bool)
	for !exts.Empty() {
		var e ECHConfigExtension
		if !exts.ReadUint16(&e.Type) || !readOpaque16(&exts, &e.Data, 0, 1<<16-1) {
			return c, decodeErr(name, "extensions")
		}
		if seen[e.Type] {
			// §4.2: "there MUST NOT be more than one extension of the
			// same type in the extensions block".
			return c, decodeErr(name, "duplicate extension")
		}
		seen[e.Type] = true
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// ECHClientHelloType is §5 ECHClientHelloType.
type ECHClientHelloType uint8

const (
	ECHOuter ECHClientHelloType = 0
	ECHInner ECHClientHelloType = 1
)

// ECHClientHello is the §5 encrypted_client_hello extension of a
// ClientHello: the outer variant carries the encrypted inner hello, the
// inner variant is empty.
type ECHClientHello struct {
	Type        ECHClientHelloType
	CipherSuite HPKESymmetricCipherSuite // outer only
	ConfigID    uint8                    // outer only
	Enc         []byte                   // outer only: opaque enc<0..2^16-1>
	Payload     []byte                   // outer only: opaque payload<1..2^16-1>
}

func (e ECHClientHello) Marshal() ([]byte, error) {
	return marshalExt(ExtEncryptedClientHello, func(b *builder) {
		b.AddUint8(uint8(e.Type))
		if e.Type != ECHOuter {
			return
		}
		b.AddUint16(e.CipherSuite.KDF)
		b.AddUint16(e.CipherSuite.AEAD)
		b.AddUint8(e.ConfigID)
		addOpaque16(b, e.Enc)
		addOpaque16(b, e.Payload)
	})
}

// Unmarshal refuses a type other than outer and inner as illegal_parameter
// (§7: "If ECHClientHello.type is not a valid ECHClientHelloType, then the
// server MUST abort with an "illegal_parameter" alert").
func (e *ECHClientHello) Unmarshal(data []byte) error {
	name := extName(ExtEncryptedClientHello)
	s := cryptobyte.String(data)
	var out ECHClientHello
	var t uint8
	if !s.ReadUint8(&t) {
		return decodeErr(name, "type")
	}
	out.Type = ECHClientHelloType(t)
	switch out.Type {
	case ECHInner:
	case ECHOuter:
		switch {
		case !s.ReadUint16(&out.CipherSuite.KDF) || !s.ReadUint16(&out.CipherSuite.AEAD):
			return decodeErr(name, "cipher_suite")
		case !s.ReadUint8(&out.ConfigID):
			return decodeErr(name, "config_id")
		case !readOpaque16(&s, &out.Enc, 0, 1<<16-1):
			return decodeErr(name, "enc")
		case !readOpaque16(&s, &out.Payload, 1, 1<<16-1):
			return decodeErr(name, "payload")
		}
	default:
		return illegalErr(name, "type is neither outer nor inner")
	}
	if err := extEnd(s, ExtEncryptedClientHello); err != nil {
		return err
	}
	*e = out
	return nil
}

// ECHEncryptedExtensions is §5 ECHEncryptedExtensions: the server's retry
// configurations, which the client checks for syntax (§6.1.6).
type ECHEncryptedExtensions struct {
	RetryConfigs []byte // ECHConfigList, serialized
}

func (e ECHEncryptedExtensions) Marshal() ([]byte, error) {
	out := make([]byte, len(e.RetryConfigs))
	copy(out, e.RetryConfigs)
	return out, nil
}

func (e *ECHEncryptedExtensions) Unmarshal(data []byte) error {
	if _, err := ParseECHConfigList(data); err != nil {
		return err
	}
	e.RetryConfigs = clip(data)
	return nil
}

// ECHHelloRetryRequest is §5 ECHHelloRetryRequest: opaque confirmation[8].
type ECHHelloRetryRequest [8]byte

func (e ECHHelloRetryRequest) Marshal() ([]byte, error) { return e[:], nil }

func (e *ECHHelloRetryRequest) Unmarshal(data []byte) error {
	if len(data) != len(e) {
		return decodeErr(extName(ExtEncryptedClientHello), "confirmation[8]")
	}
	copy(e[:], data)
	return nil
}

// OuterExtensions is §5.1 "ExtensionType OuterExtensions<2..254>": the
// extensions of the inner hello the client left in the outer one.
type OuterExtensions []ExtensionType

func (o OuterExtensions) Marshal() ([]byte, error) {
	return marshalExt(ExtECHOuterExtensions, func(b *builder) {
		b.AddUint8LengthPrefixed(func(b *builder) {
			for _, t := range o {
				b.AddUint16(uint16(t))
			}
		})
	})
}

func (o *OuterExtensions) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var list []uint16
	if !readUint16List8(&s, &list, 2, 254) {
		return decodeErr(extName(ExtECHOuterExtensions), "OuterExtensions<2..254>")
	}
	if err := extEnd(s, ExtECHOuterExtensions); err != nil {
		return err
	}
	out := make(OuterExtensions, len(list))
	for i, t := range list {
		out[i] = ExtensionType(t)
	}
	*o = out
	return nil
}

// EncodedClientHelloInner is §5.1 EncodedClientHelloInner: a ClientHello
// (no handshake header, legacy_session_id empty, extensions possibly
// replaced by ech_outer_extensions) followed by zeros.
type EncodedClientHelloInner struct {
	ClientHello *ClientHello
	Padding     int
}

func (e *EncodedClientHelloInner) Marshal() ([]byte, error) {
	body, err := e.ClientHello.Body()
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(body)+e.Padding)
	copy(out, body)
	return out, nil
}

// Unmarshal reads the ClientHello and checks that everything after it is
// zero: "If any padding byte is non-zero, the server MUST abort the
// connection with an "illegal_parameter" alert" (§5.1).
func (e *EncodedClientHelloInner) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	ch, err := readClientHello(&s)
	if err != nil {
		return err
	}
	for _, b := range s {
		if b != 0 {
			return illegalErr("EncodedClientHelloInner", "padding is not all zeros")
		}
	}
	e.ClientHello, e.Padding = ch, len(s)
	return nil
}
