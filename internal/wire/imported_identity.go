package wire

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// ImportedIdentity is RFC 9258 §5.1, the identity under which a PSK
// derived from an external PSK is offered in pre_shared_key:
//
//	struct {
//	   opaque external_identity<1...2^16-1>;
//	   opaque context<0..2^16-1>;
//	   uint16 target_protocol;
//	   uint16 target_kdf;
//	} ImportedIdentity;
type ImportedIdentity struct {
	ExternalIdentity []byte // <1..2^16-1>
	Context          []byte // <0..2^16-1>
	TargetProtocol   uint16 // the TLS version: 0x0304
	TargetKDF        uint16 // KDFHKDFSHA256 or KDFHKDFSHA384
}

// The target KDFs of RFC 9258 §10.
const (
	KDFHKDFSHA256 uint16 = 0x0001
	KDFHKDFSHA384 uint16 = 0x0002
)

// Marshal encodes the identity. It fails when a field does not fit its
// vector, and when the whole would not fit a PskIdentity (<1..2^16-1>),
// which RFC 9258 §5.1 says to refuse.
func (id ImportedIdentity) Marshal() ([]byte, error) {
	if len(id.ExternalIdentity) == 0 {
		return nil, &MarshalError{What: "ImportedIdentity", Err: errors.New("external_identity is empty (<1..2^16-1>)")}
	}
	b := newBuilder(2 + len(id.ExternalIdentity) + 2 + len(id.Context) + 4)
	addOpaque16(b, id.ExternalIdentity)
	addOpaque16(b, id.Context)
	b.AddUint16(id.TargetProtocol)
	b.AddUint16(id.TargetKDF)
	raw, err := b.result("ImportedIdentity")
	if err == nil && len(raw) > 1<<16-1 {
		return nil, &MarshalError{What: "ImportedIdentity", Err: fmt.Errorf("%d bytes, more than a PskIdentity holds (2^16-1)", len(raw))}
	}
	return raw, err
}

// Unmarshal decodes an identity from pre_shared_key. An identity that is
// not an ImportedIdentity (a plain external PSK's, a ticket) fails; the
// caller then treats it as one of those.
func (id *ImportedIdentity) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var out ImportedIdentity
	if !readOpaque16(&s, &out.ExternalIdentity, 1, 1<<16-1) || !readOpaque16(&s, &out.Context, 0, 1<<16-1) ||
		!s.ReadUint16(&out.TargetProtocol) || !s.ReadUint16(&out.TargetKDF) || !s.Empty() {
		return decodeErr("ImportedIdentity", "structure")
	}
	*id = out
	return nil
}
