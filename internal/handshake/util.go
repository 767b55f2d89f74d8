package handshake

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"net"
	"strings"
)

// The downgrade sentinels end the ServerHello random of a server that could
// have done TLS 1.3 and negotiates TLS 1.2 (…01) or TLS 1.1 and below
// (…00) (RFC 8446 §4.1.3).
var (
	downgradeTLS12 = [8]byte{'D', 'O', 'W', 'N', 'G', 'R', 'D', 0x01}
	downgradeTLS11 = [8]byte{'D', 'O', 'W', 'N', 'G', 'R', 'D', 0x00}
)

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsString(list []string, v string) bool { return contains(list, v) }

func concat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// keyName describes a public key for error messages: "RSA-2048", "ECDSA P-256", "Ed25519".
func keyName(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case nil:
		return "no key"
	}
	return fmt.Sprintf("%T", pub)
}

func isIPLiteral(name string) bool {
	return net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")) != nil
}
