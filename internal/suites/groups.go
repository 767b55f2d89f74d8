package suites

import (
	"fmt"

	"github.com/tlsflow/tlsflow/internal/kex"
)

// Named groups (IANA TLS Supported Groups registry). The registry of what
// tlsflow implements is internal/kex's; these are its names here.
const (
	GroupP256                      = kex.P256
	GroupP384                      = kex.P384
	GroupP521                      = kex.P521
	GroupX25519                    = kex.X25519
	GroupX448               uint16 = 0x001e // recognized, not implemented
	GroupX25519MLKEM768            = kex.X25519MLKEM768
	GroupSecP256r1MLKEM768         = kex.SecP256r1MLKEM768
	GroupSecP384r1MLKEM1024        = kex.SecP384r1MLKEM1024
)

// GroupName returns the IANA name of a named group.
func GroupName(g uint16) string {
	if g&0x0f0f == 0x0a0a && g>>8 == g&0xff {
		return fmt.Sprintf("GREASE(0x%04x)", g)
	}
	return kex.Name(g)
}

// GroupTLS13Only reports whether a group can only be used in TLS 1.3 (the
// hybrid KEMs have no TLS 1.2 ServerKeyExchange form).
func GroupTLS13Only(g uint16) bool { return kex.TLS13Only(g) }

// DefaultGroups is the preference order when Config.CurvePreferences is nil:
// the post-quantum hybrid first (TLS 1.3 only), then X25519, P-256, P-384
// and P-521, as crypto/tls.
func DefaultGroups() []uint16 {
	return []uint16{GroupX25519MLKEM768, GroupX25519, GroupP256, GroupP384, GroupP521}
}

// GroupImplemented reports whether tlsflow can do key exchange with g.
func GroupImplemented(g uint16) bool { return kex.Supported(g) }
