package tlshttp

import (
	"slices"

	"github.com/tlsflow/tlsflow"
)

// RFC 9113 §9.2.2: HTTP/2 over TLS 1.2 must use an ephemeral key exchange
// and an AEAD cipher, and its Appendix A lists the suites that must not be
// used. Of tlsflow's TLS 1.2 suites (all AEADs) that rules out the RSA key
// exchange; anything tlsflow may add later is out until it is listed here.
// Chromium refuses h2 over a listed suite
// (ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY).
var h2Suites12 = []uint16{
	tlsflow.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tlsflow.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tlsflow.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tlsflow.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tlsflow.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

var suites13 = []uint16{tlsflow.TLS_AES_128_GCM_SHA256, tlsflow.TLS_AES_256_GCM_SHA384, tlsflow.TLS_CHACHA20_POLY1305_SHA256}

// h2Permitted reports whether HTTP/2 may run over a connection that
// negotiated version and suite (RFC 9113 §9.2: TLS 1.2 or later, and in
// TLS 1.2 only the suites above; every TLS 1.3 suite is fine).
func h2Permitted(version, suite uint16) bool {
	switch {
	case version >= tlsflow.VersionTLS13:
		return true
	case version == tlsflow.VersionTLS12:
		return slices.Contains(h2Suites12, suite)
	}
	return false
}

// h2Possible reports whether a server with config could ever negotiate a
// connection h2Permitted allows: TLS 1.3 enabled with a suite, or a TLS 1.2
// suite from the list. When it cannot, offering h2 would only lead a client
// into a connection it must refuse, so the server does not offer it.
//
// This is the configuration-wide half of the rule. The other half is per
// connection (serveConn): a server that enables both kinds of TLS 1.2 suite
// still offers h2, and a client that ends up with h2 over a forbidden suite
// (it offered only those) is refused with INADEQUATE_SECURITY. The engine
// could do better by skipping h2 when it chooses ALPN after the TLS 1.2
// suite (see the package documentation).
func h2Possible(config *tlsflow.Config) bool {
	lo, hi := config.MinVersion, config.MaxVersion
	if lo == 0 {
		lo = tlsflow.VersionTLS12
	}
	if hi == 0 {
		hi = tlsflow.VersionTLS13
	}
	enabled := func(id uint16) bool { return config.CipherSuites == nil || slices.Contains(config.CipherSuites, id) }
	if hi >= tlsflow.VersionTLS13 && slices.ContainsFunc(suites13, enabled) {
		return true
	}
	return lo <= tlsflow.VersionTLS12 && hi >= tlsflow.VersionTLS12 && slices.ContainsFunc(h2Suites12, enabled)
}
