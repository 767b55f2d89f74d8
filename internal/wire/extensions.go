package wire

import "golang.org/x/crypto/cryptobyte"

// Extension is RFC 8446 §4.2 Extension with its extension_data left unparsed;
// the typed codecs in extension_types.go parse it on demand.
type Extension struct {
	Type ExtensionType
	Data []byte // extension_data<0..2^16-1>

	// err is why Add could not marshal the extension's value; the
	// message's Marshal returns it. Parsed extensions never have one.
	err error
}

// Extensions is an extensions block in wire order. Parsed blocks never hold
// two extensions of the same type.
type Extensions []Extension

// ExtensionData is the typed form of one extension's extension_data.
type ExtensionData interface {
	Marshal() ([]byte, error)
	Unmarshal(data []byte) error
}

// ExtensionMarshaler is the half of ExtensionData that Add needs, so that
// values such as SupportedVersionServer(0x0304) can be added without taking
// their address.
type ExtensionMarshaler interface {
	Marshal() ([]byte, error)
}

// Find returns the extension_data of the extension of type t.
func (e Extensions) Find(t ExtensionType) (data []byte, ok bool) {
	for _, ext := range e {
		if ext.Type == t {
			return ext.Data, true
		}
	}
	return nil, false
}

// Has reports whether an extension of type t is present.
func (e Extensions) Has(t ExtensionType) bool {
	_, ok := e.Find(t)
	return ok
}

// DecodeWith is Decode with the codec's Unmarshal given as a method value
// (exts.DecodeWith(t, v.Unmarshal)). Through the interface of Decode, v
// escapes to the heap, present or not, and every hello reads a dozen
// extensions; a method value keeps it on the caller's stack.
func (e Extensions) DecodeWith(t ExtensionType, unmarshal func([]byte) error) (found bool, err error) {
	data, ok := e.Find(t)
	if !ok {
		return false, nil
	}
	return true, unmarshal(data)
}

// Decode finds the extension of type t and unmarshals its extension_data into
// v. found is false, and err nil, if the extension is absent.
func (e Extensions) Decode(t ExtensionType, v ExtensionData) (found bool, err error) {
	data, ok := e.Find(t)
	if !ok {
		return false, nil
	}
	return true, v.Unmarshal(data)
}

// Empty reports whether the extension of type t is present, for extensions
// whose extension_data must be empty (extended_master_secret,
// post_handshake_auth, early_data outside NewSessionTicket, ...). Data in
// such an extension is a DecodeError.
func (e Extensions) Empty(t ExtensionType) (present bool, err error) {
	data, ok := e.Find(t)
	if !ok {
		return false, nil
	}
	if len(data) != 0 {
		return true, decodeErr(t.String()+" extension", "extension_data must be empty")
	}
	return true, nil
}

// Add appends an extension of type t holding v.Marshal(). If v cannot be
// marshalled, the failure is kept and returned by the Marshal of the
// message the block goes into, as a builder keeps its first error: a hello
// is built from many extensions, and it is the message that fails.
func (e *Extensions) Add(t ExtensionType, v ExtensionMarshaler) {
	data, err := v.Marshal()
	*e = append(*e, Extension{Type: t, Data: data, err: err})
}

// AddEmpty appends an extension of type t with empty extension_data.
func (e *Extensions) AddEmpty(t ExtensionType) {
	*e = append(*e, Extension{Type: t})
}

// marshal writes Extension extensions<0..2^16-1>.
func (e Extensions) marshal(b *builder) {
	b.AddUint16LengthPrefixed(func(b *builder) {
		for _, ext := range e {
			if ext.err != nil {
				b.fail(ext.err)
			}
			b.AddUint16(uint16(ext.Type))
			addOpaque16(b, ext.Data)
		}
	})
}

// readExtensions reads Extension extensions<lo..hi> for message msg. RFC 8446
// §4.2 forbids two extensions of the same type in one block; the RFC 5246
// §7.4.1.4 wording is the same.
func readExtensions(s *cryptobyte.String, msg string, lo, hi int) (Extensions, error) {
	var block cryptobyte.String
	if !readVector16(s, &block, lo, hi) {
		return nil, decodeErr(msg, "extensions")
	}
	if block.Empty() {
		return nil, nil
	}
	// The block is read twice: first for its framing and the number of
	// extensions, so the list is one allocation of the right size.
	n := 0
	for scan := block; !scan.Empty(); n++ {
		var data []byte
		if !scan.Skip(2) || !readOpaque16(&scan, &data, 0, 1<<16-1) {
			return nil, decodeErr(msg, "extensions")
		}
	}
	exts := make(Extensions, 0, n)
	// A block holds at most 2^16/4 extensions. Up to smallBlock of them the
	// duplicate check compares pairwise (at most a few hundred comparisons,
	// no allocation); beyond, a set keeps it linear where a pairwise scan
	// would let a peer make it quadratic.
	const smallBlock = 32
	var seen map[ExtensionType]bool
	if n > smallBlock {
		seen = make(map[ExtensionType]bool, n)
	}
	for !block.Empty() {
		var t uint16
		var data []byte
		if !block.ReadUint16(&t) || !readOpaque16(&block, &data, 0, 1<<16-1) {
			return nil, decodeErr(msg, "extensions")
		}
		et := ExtensionType(t)
		if seen != nil {
			if seen[et] {
				return nil, decodeErr(msg, "duplicate extension "+et.String())
			}
			seen[et] = true
		} else if _, dup := exts.Find(et); dup {
			return nil, decodeErr(msg, "duplicate extension "+et.String())
		}
		exts = append(exts, Extension{Type: et, Data: data})
	}
	return exts, nil
}

// readHelloExtensions reads the extensions of a ClientHello or ServerHello,
// which RFC 5246 §7.4.1.2 lets a TLS 1.2 peer omit entirely: nothing after the
// compression method(s) means no extensions.
func readHelloExtensions(s *cryptobyte.String, msg string) (Extensions, error) {
	if s.Empty() {
		return nil, nil
	}
	exts, err := readExtensions(s, msg, 0, 1<<16-1)
	if err == nil && exts == nil {
		// A block that is there but empty stays distinguishable from no
		// block at all, so the message re-marshals to the same bytes.
		exts = Extensions{}
	}
	return exts, err
}
