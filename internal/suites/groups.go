package suites

import "fmt"

// Named groups (IANA TLS Supported Groups registry).
const (
	GroupP256           uint16 = 0x0017 // secp256r1
	GroupP384           uint16 = 0x0018 // secp384r1
	GroupP521           uint16 = 0x0019 // secp521r1 (recognized, not implemented)
	GroupX25519         uint16 = 0x001d
	GroupX448           uint16 = 0x001e // recognized, not implemented
	GroupX25519MLKEM768 uint16 = 0x11ec // draft-ietf-tls-ecdhe-mlkem
)

// GroupName returns the IANA name of a named group.
func GroupName(g uint16) string {
	switch g {
	case GroupP256:
		return "secp256r1"
	case GroupP384:
		return "secp384r1"
	case GroupP521:
		return "secp521r1"
	case GroupX25519:
		return "x25519"
	case GroupX448:
		return "x448"
	case GroupX25519MLKEM768:
		return "X25519MLKEM768"
	}
	if g&0x0f0f == 0x0a0a && g>>8 == g&0xff {
		return fmt.Sprintf("GREASE(0x%04x)", g)
	}
	return fmt.Sprintf("group(0x%04x)", g)
}

// GroupTLS13Only reports whether a group can only be used in TLS 1.3 (the
// hybrid KEM has no TLS 1.2 ServerKeyExchange form).
func GroupTLS13Only(g uint16) bool { return g == GroupX25519MLKEM768 }

// DefaultGroups is the preference order when Config.CurvePreferences is nil:
// the post-quantum hybrid first (TLS 1.3 only), then X25519, P-256, P-384.
func DefaultGroups() []uint16 {
	return []uint16{GroupX25519MLKEM768, GroupX25519, GroupP256, GroupP384}
}

// GroupImplemented reports whether tlsflow can do key exchange with g.
func GroupImplemented(g uint16) bool {
	switch g {
	case GroupX25519, GroupP256, GroupP384, GroupX25519MLKEM768:
		return true
	}
	return false
}
