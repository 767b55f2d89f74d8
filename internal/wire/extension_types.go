package wire

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// Typed extension_data codecs. Each Marshal returns the extension_data only;
// Extensions.Add wraps it in the extension header. Each Unmarshal takes the
// whole extension_data and rejects trailing bytes.

// extName is how errors name an extension of type t: "<name> extension".
// The codecs name theirs before they know whether anything fails, so the
// names of the known types are made once rather than at every call.
func extName(t ExtensionType) string {
	if name, ok := extNames[t]; ok {
		return name
	}
	return t.String() + " extension"
}

var extNames = func() map[ExtensionType]string {
	m := make(map[ExtensionType]string, len(extensionTypeNames))
	for t, name := range extensionTypeNames {
		m[t] = name + " extension"
	}
	return m
}()

func marshalExt(t ExtensionType, add func(b *builder)) ([]byte, error) {
	b := pooledBuilder(64)
	add(b)
	return b.finish(func() string { return extName(t) })
}

// extEnd rejects extension_data left over after the structure was read.
func extEnd(s cryptobyte.String, t ExtensionType) error {
	if !s.Empty() {
		return decodeErr(extName(t), "trailing bytes")
	}
	return nil
}

// nameTypeHostName is RFC 6066 §3 NameType host_name.
const nameTypeHostName = 0

// ServerName is RFC 6066 §3 server_name as a client sends it: a ServerNameList
// with one host_name. The server's acknowledgement is an empty extension
// (AddEmpty / Empty).
type ServerName struct {
	HostName string // without trailing dot
}

func (n ServerName) Marshal() ([]byte, error) {
	return marshalExt(ExtServerName, func(b *builder) {
		b.AddUint16LengthPrefixed(func(b *builder) { // server_name_list<1..2^16-1>
			b.AddUint8(nameTypeHostName)
			addOpaque16(b, []byte(n.HostName)) // HostName<1..2^16-1>
		})
	})
}

func (n *ServerName) Unmarshal(data []byte) error {
	name := extName(ExtServerName)
	s := cryptobyte.String(data)
	var list cryptobyte.String
	if !readVector16(&s, &list, 1, 1<<16-1) {
		return decodeErr(name, "server_name_list")
	}
	if err := extEnd(s, ExtServerName); err != nil {
		return err
	}
	var host []byte
	found := false
	for !list.Empty() {
		var nameType uint8
		var entry []byte
		if !list.ReadUint8(&nameType) || !readOpaque16(&list, &entry, 1, 1<<16-1) {
			return decodeErr(name, "server_name_list")
		}
		// Other name types are skipped: RFC 6066 §3 leaves room for them,
		// and every one defined so far would be uint16-length-prefixed.
		if nameType != nameTypeHostName {
			continue
		}
		// "The ServerNameList MUST NOT contain more than one name of the
		// same name_type." (RFC 6066 §3)
		if found {
			return decodeErr(name, "second host_name")
		}
		host, found = entry, true
	}
	switch {
	case !found:
		return decodeErr(name, "no host_name")
	case bytes.IndexByte(host, 0) >= 0:
		return decodeErr(name, "HostName contains a NUL byte")
	case host[len(host)-1] == '.':
		// RFC 6066 §3: the name is sent "without a trailing dot".
		return decodeErr(name, "HostName has a trailing dot")
	}
	n.HostName = string(host)
	return nil
}

// SupportedGroups is RFC 8446 §4.2.7 NamedGroupList:
// NamedGroup named_group_list<2..2^16-1>.
type SupportedGroups []uint16

func (g SupportedGroups) Marshal() ([]byte, error) {
	return marshalExt(ExtSupportedGroups, func(b *builder) { addUint16List16(b, g) })
}

func (g *SupportedGroups) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var list []uint16
	if !readUint16List16(&s, &list, 2, 1<<16-1) {
		return decodeErr(extName(ExtSupportedGroups), "named_group_list")
	}
	if err := extEnd(s, ExtSupportedGroups); err != nil {
		return err
	}
	*g = list
	return nil
}

// ECPointFormats is RFC 8422 §5.1.2 ECPointFormatList:
// ECPointFormat ec_point_format_list<1..2^8-1>.
type ECPointFormats []uint8

func (f ECPointFormats) Marshal() ([]byte, error) {
	return marshalExt(ExtECPointFormats, func(b *builder) { addOpaque8(b, f) })
}

func (f *ECPointFormats) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var list []byte
	if !readOpaque8(&s, &list, 1, 1<<8-1) {
		return decodeErr(extName(ExtECPointFormats), "ec_point_format_list")
	}
	if err := extEnd(s, ExtECPointFormats); err != nil {
		return err
	}
	*f = list
	return nil
}

// SignatureAlgorithms is RFC 8446 §4.2.3 SignatureSchemeList:
// SignatureScheme supported_signature_algorithms<2..2^16-2>. It serves both
// signature_algorithms and signature_algorithms_cert.
type SignatureAlgorithms []uint16

func (a SignatureAlgorithms) Marshal() ([]byte, error) {
	return marshalExt(ExtSignatureAlgorithms, func(b *builder) { addUint16List16(b, a) })
}

func (a *SignatureAlgorithms) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var list []uint16
	if !readUint16List16(&s, &list, 2, 1<<16-2) {
		return decodeErr(extName(ExtSignatureAlgorithms), "supported_signature_algorithms")
	}
	if err := extEnd(s, ExtSignatureAlgorithms); err != nil {
		return err
	}
	*a = list
	return nil
}

// ALPN is RFC 7301 §3.1 ProtocolNameList:
// ProtocolName protocol_name_list<2..2^16-1>, each ProtocolName<1..2^8-1>.
// In ServerHello / EncryptedExtensions the list must hold exactly one name;
// the engine checks that.
type ALPN []string

func (p ALPN) Marshal() ([]byte, error) {
	return marshalExt(ExtALPN, func(b *builder) {
		b.AddUint16LengthPrefixed(func(b *builder) {
			for _, proto := range p {
				addOpaque8(b, []byte(proto))
			}
		})
	})
}

func (p *ALPN) Unmarshal(data []byte) error {
	name := extName(ExtALPN)
	s := cryptobyte.String(data)
	var list cryptobyte.String
	if !readVector16(&s, &list, 2, 1<<16-1) {
		return decodeErr(name, "protocol_name_list")
	}
	if err := extEnd(s, ExtALPN); err != nil {
		return err
	}
	var protos []string
	for !list.Empty() {
		var proto []byte
		if !readOpaque8(&list, &proto, 1, 1<<8-1) {
			return decodeErr(name, "ProtocolName")
		}
		protos = append(protos, string(proto))
	}
	*p = protos
	return nil
}

// RenegotiationInfo is RFC 5746 §3.2 opaque renegotiated_connection<0..255>:
// empty on an initial handshake.
type RenegotiationInfo []byte

func (r RenegotiationInfo) Marshal() ([]byte, error) {
	return marshalExt(ExtRenegotiationInfo, func(b *builder) { addOpaque8(b, r) })
}

func (r *RenegotiationInfo) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var v []byte
	if !readOpaque8(&s, &v, 0, 255) {
		return decodeErr(extName(ExtRenegotiationInfo), "renegotiated_connection")
	}
	if err := extEnd(s, ExtRenegotiationInfo); err != nil {
		return err
	}
	*r = v
	return nil
}

// SupportedVersionsClient is RFC 8446 §4.2.1 supported_versions in
// ClientHello: ProtocolVersion versions<2..254>.
type SupportedVersionsClient []uint16

func (v SupportedVersionsClient) Marshal() ([]byte, error) {
	return marshalExt(ExtSupportedVersions, func(b *builder) { addUint16List8(b, v) })
}

func (v *SupportedVersionsClient) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var list []uint16
	if !readUint16List8(&s, &list, 2, 254) {
		return decodeErr(extName(ExtSupportedVersions), "versions")
	}
	if err := extEnd(s, ExtSupportedVersions); err != nil {
		return err
	}
	*v = list
	return nil
}

// SupportedVersionServer is RFC 8446 §4.2.1 supported_versions in
// ServerHello and HelloRetryRequest: ProtocolVersion selected_version.
type SupportedVersionServer uint16

func (v SupportedVersionServer) Marshal() ([]byte, error) {
	return marshalExt(ExtSupportedVersions, func(b *builder) { b.AddUint16(uint16(v)) })
}

func (v *SupportedVersionServer) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var version uint16
	if !s.ReadUint16(&version) {
		return decodeErr(extName(ExtSupportedVersions), "selected_version")
	}
	if err := extEnd(s, ExtSupportedVersions); err != nil {
		return err
	}
	*v = SupportedVersionServer(version)
	return nil
}

// KeyShareEntry is RFC 8446 §4.2.8 KeyShareEntry.
type KeyShareEntry struct {
	Group       uint16
	KeyExchange []byte // key_exchange<1..2^16-1>
}

func (k KeyShareEntry) add(b *builder) {
	b.AddUint16(k.Group)
	addOpaque16(b, k.KeyExchange)
}

func readKeyShareEntry(s *cryptobyte.String, k *KeyShareEntry) bool {
	return s.ReadUint16(&k.Group) && readOpaque16(s, &k.KeyExchange, 1, 1<<16-1)
}

// KeyShareClientHello is RFC 8446 §4.2.8 KeyShareClientHello:
// KeyShareEntry client_shares<0..2^16-1>. Empty is legal: the client asks
// for a HelloRetryRequest.
type KeyShareClientHello []KeyShareEntry

func (k KeyShareClientHello) Marshal() ([]byte, error) {
	return marshalExt(ExtKeyShare, func(b *builder) {
		b.AddUint16LengthPrefixed(func(b *builder) {
			for _, e := range k {
				e.add(b)
			}
		})
	})
}

func (k *KeyShareClientHello) Unmarshal(data []byte) error {
	name := extName(ExtKeyShare)
	s := cryptobyte.String(data)
	var list cryptobyte.String
	if !readVector16(&s, &list, 0, 1<<16-1) {
		return decodeErr(name, "client_shares")
	}
	if err := extEnd(s, ExtKeyShare); err != nil {
		return err
	}
	var shares []KeyShareEntry
	seen := make(map[uint16]bool)
	for !list.Empty() {
		var e KeyShareEntry
		if !readKeyShareEntry(&list, &e) {
			return decodeErr(name, "KeyShareEntry")
		}
		// "Clients MUST NOT offer multiple KeyShareEntry values for the same
		// group" and servers may answer a violation with illegal_parameter
		// (RFC 8446 §4.2.8).
		if seen[e.Group] {
			return illegalErr(name, "two client_shares for one group")
		}
		seen[e.Group] = true
		shares = append(shares, e)
	}
	*k = shares
	return nil
}

// KeyShareServerHello is RFC 8446 §4.2.8 KeyShareServerHello:
// KeyShareEntry server_share.
type KeyShareServerHello KeyShareEntry

func (k KeyShareServerHello) Marshal() ([]byte, error) {
	return marshalExt(ExtKeyShare, KeyShareEntry(k).add)
}

func (k *KeyShareServerHello) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var e KeyShareEntry
	if !readKeyShareEntry(&s, &e) {
		return decodeErr(extName(ExtKeyShare), "server_share")
	}
	if err := extEnd(s, ExtKeyShare); err != nil {
		return err
	}
	*k = KeyShareServerHello(e)
	return nil
}

// KeyShareHelloRetryRequest is RFC 8446 §4.2.8 KeyShareHelloRetryRequest.
type KeyShareHelloRetryRequest struct {
	SelectedGroup uint16
}

func (k KeyShareHelloRetryRequest) Marshal() ([]byte, error) {
	return marshalExt(ExtKeyShare, func(b *builder) { b.AddUint16(k.SelectedGroup) })
}

func (k *KeyShareHelloRetryRequest) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var group uint16
	if !s.ReadUint16(&group) {
		return decodeErr(extName(ExtKeyShare), "selected_group")
	}
	if err := extEnd(s, ExtKeyShare); err != nil {
		return err
	}
	k.SelectedGroup = group
	return nil
}

// PSKKeyExchangeModes is RFC 8446 §4.2.9 PskKeyExchangeModes:
// PskKeyExchangeMode ke_modes<1..255>.
type PSKKeyExchangeModes []uint8

func (m PSKKeyExchangeModes) Marshal() ([]byte, error) {
	return marshalExt(ExtPSKKeyExchangeModes, func(b *builder) { addOpaque8(b, m) })
}

func (m *PSKKeyExchangeModes) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var modes []byte
	if !readOpaque8(&s, &modes, 1, 255) {
		return decodeErr(extName(ExtPSKKeyExchangeModes), "ke_modes")
	}
	if err := extEnd(s, ExtPSKKeyExchangeModes); err != nil {
		return err
	}
	*m = modes
	return nil
}

// PSKIdentity is RFC 8446 §4.2.11 PskIdentity.
type PSKIdentity struct {
	Identity            []byte // identity<1..2^16-1>
	ObfuscatedTicketAge uint32
}

// PreSharedKeyClientHello is RFC 8446 §4.2.11 OfferedPsks, the pre_shared_key
// extension in ClientHello, which must be the last extension.
type PreSharedKeyClientHello struct {
	Identities []PSKIdentity // identities<7..2^16-1>
	Binders    [][]byte      // PskBinderEntry binders<33..2^16-1>, each <32..255>
}

func (p PreSharedKeyClientHello) Marshal() ([]byte, error) {
	return marshalExt(ExtPreSharedKey, func(b *builder) {
		b.AddUint16LengthPrefixed(func(b *builder) {
			for _, id := range p.Identities {
				addOpaque16(b, id.Identity)
				b.AddUint32(id.ObfuscatedTicketAge)
			}
		})
		p.addBinders(b)
	})
}

func (p PreSharedKeyClientHello) addBinders(b *builder) {
	b.AddUint16LengthPrefixed(func(b *builder) {
		for _, binder := range p.Binders {
			addOpaque8(b, binder)
		}
	})
}

// BindersLen is the length in bytes of the encoded binders vector, its
// two-byte length included. Because pre_shared_key is the last extension,
// the ClientHello that the binders sign (RFC 8446 §4.2.11.2) is the marshaled
// ClientHello minus its last BindersLen bytes.
func (p PreSharedKeyClientHello) BindersLen() int {
	n := 2
	for _, binder := range p.Binders {
		n += 1 + len(binder)
	}
	return n
}

func (p *PreSharedKeyClientHello) Unmarshal(data []byte) error {
	name := extName(ExtPreSharedKey)
	s := cryptobyte.String(data)
	var ids, binders cryptobyte.String
	if !readVector16(&s, &ids, 7, 1<<16-1) {
		return decodeErr(name, "identities")
	}
	if !readVector16(&s, &binders, 33, 1<<16-1) {
		return decodeErr(name, "binders")
	}
	if err := extEnd(s, ExtPreSharedKey); err != nil {
		return err
	}
	var out PreSharedKeyClientHello
	for !ids.Empty() {
		var id PSKIdentity
		if !readOpaque16(&ids, &id.Identity, 1, 1<<16-1) || !ids.ReadUint32(&id.ObfuscatedTicketAge) {
			return decodeErr(name, "PskIdentity")
		}
		out.Identities = append(out.Identities, id)
	}
	for !binders.Empty() {
		var binder []byte
		if !readOpaque8(&binders, &binder, 32, 255) {
			return decodeErr(name, "PskBinderEntry")
		}
		out.Binders = append(out.Binders, binder)
	}
	// One binder per identity (RFC 8446 §4.2.11); a mismatch parses but is
	// an illegal offer.
	if len(out.Identities) != len(out.Binders) {
		return illegalErr(name, "identities and binders differ in number")
	}
	*p = out
	return nil
}

// PreSharedKeyServerHello is RFC 8446 §4.2.11 pre_shared_key in ServerHello:
// uint16 selected_identity.
type PreSharedKeyServerHello struct {
	SelectedIdentity uint16
}

func (p PreSharedKeyServerHello) Marshal() ([]byte, error) {
	return marshalExt(ExtPreSharedKey, func(b *builder) { b.AddUint16(p.SelectedIdentity) })
}

func (p *PreSharedKeyServerHello) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var sel uint16
	if !s.ReadUint16(&sel) {
		return decodeErr(extName(ExtPreSharedKey), "selected_identity")
	}
	if err := extEnd(s, ExtPreSharedKey); err != nil {
		return err
	}
	p.SelectedIdentity = sel
	return nil
}

// Cookie is RFC 8446 §4.2.2 Cookie: opaque cookie<1..2^16-1>.
type Cookie []byte

func (c Cookie) Marshal() ([]byte, error) {
	return marshalExt(ExtCookie, func(b *builder) { addOpaque16(b, c) })
}

func (c *Cookie) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var v []byte
	if !readOpaque16(&s, &v, 1, 1<<16-1) {
		return decodeErr(extName(ExtCookie), "cookie")
	}
	if err := extEnd(s, ExtCookie); err != nil {
		return err
	}
	*c = v
	return nil
}

// CertificateAuthorities is RFC 8446 §4.2.4 CertificateAuthoritiesExtension:
// DistinguishedName authorities<3..2^16-1>, each a DER-encoded X.501 Name
// <1..2^16-1>.
type CertificateAuthorities [][]byte

func (c CertificateAuthorities) Marshal() ([]byte, error) {
	return marshalExt(ExtCertificateAuthorities, func(b *builder) { addDistinguishedNames(b, c) })
}

func (c *CertificateAuthorities) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var names [][]byte
	if !readDistinguishedNames(&s, &names, 3) {
		return decodeErr(extName(ExtCertificateAuthorities), "authorities")
	}
	if err := extEnd(s, ExtCertificateAuthorities); err != nil {
		return err
	}
	*c = names
	return nil
}

// addDistinguishedNames writes DistinguishedName x<..2^16-1>, each
// opaque DistinguishedName<1..2^16-1> (RFC 8446 §4.2.4, RFC 5246 §7.4.4).
func addDistinguishedNames(b *builder, names [][]byte) {
	b.AddUint16LengthPrefixed(func(b *builder) {
		for _, dn := range names {
			addOpaque16(b, dn)
		}
	})
}

func readDistinguishedNames(s *cryptobyte.String, out *[][]byte, lo int) bool {
	var list cryptobyte.String
	if !readVector16(s, &list, lo, 1<<16-1) {
		return false
	}
	var names [][]byte
	for !list.Empty() {
		var dn []byte
		if !readOpaque16(&list, &dn, 1, 1<<16-1) {
			return false
		}
		names = append(names, dn)
	}
	*out = names
	return true
}

// EarlyDataIndication is RFC 8446 §4.2.10 early_data. Its extension_data is
// empty in ClientHello and EncryptedExtensions and a uint32
// max_early_data_size in NewSessionTicket; InNewSessionTicket says which.
// The engine checks that the form matches the message it came in.
type EarlyDataIndication struct {
	MaxEarlyDataSize   uint32
	InNewSessionTicket bool
}

func (e EarlyDataIndication) Marshal() ([]byte, error) {
	if !e.InNewSessionTicket {
		return nil, nil
	}
	return marshalExt(ExtEarlyData, func(b *builder) { b.AddUint32(e.MaxEarlyDataSize) })
}

func (e *EarlyDataIndication) Unmarshal(data []byte) error {
	if len(data) == 0 {
		*e = EarlyDataIndication{}
		return nil
	}
	s := cryptobyte.String(data)
	var size uint32
	if !s.ReadUint32(&size) {
		return decodeErr(extName(ExtEarlyData), "max_early_data_size")
	}
	if err := extEnd(s, ExtEarlyData); err != nil {
		return err
	}
	*e = EarlyDataIndication{MaxEarlyDataSize: size, InNewSessionTicket: true}
	return nil
}

// RecordSizeLimit is RFC 8449's record_size_limit: uint16 RecordSizeLimit,
// the largest protected record plaintext the sender accepts (in TLS 1.3
// the whole TLSInnerPlaintext). Below 64 is illegal_parameter (§4).
type RecordSizeLimit uint16

// MinRecordSizeLimit is the smallest limit an endpoint may send (RFC 8449 §4).
const MinRecordSizeLimit = 64

func (l RecordSizeLimit) Marshal() ([]byte, error) {
	return marshalExt(ExtRecordSizeLimit, func(b *builder) { b.AddUint16(uint16(l)) })
}

func (l *RecordSizeLimit) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var v uint16
	if !s.ReadUint16(&v) {
		return decodeErr(extName(ExtRecordSizeLimit), "RecordSizeLimit")
	}
	if err := extEnd(s, ExtRecordSizeLimit); err != nil {
		return err
	}
	if v < MinRecordSizeLimit {
		return illegalErr(extName(ExtRecordSizeLimit), "RecordSizeLimit below 64 (RFC 8449 §4)")
	}
	*l = RecordSizeLimit(v)
	return nil
}
