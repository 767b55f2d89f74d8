package tlshttp

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsflow/tlsflow"
)

// serverConfigFiles is the Config ServeTLS uses: srv.TLSConfig converted,
// with the key pair from the files replacing its certificates when they
// are named or when it has none (http.Server.ServeTLS's rule).
func serverConfigFiles(tc *tls.Config, certFile, keyFile string) (*tlsflow.Config, error) {
	config, err := serverConfig(tc)
	if err != nil {
		return nil, err
	}
	if len(config.Certificates) == 0 && config.GetCertificate == nil || certFile != "" || keyFile != "" {
		cert, err := tlsflow.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tlsflow.Certificate{cert}
	}
	return config, nil
}

// serverConfig converts a server's crypto/tls Config to tlsflow's. Fields
// with the same meaning are copied (Rand, Time, Certificates with their
// OCSP staples and SCTs, GetCertificate, GetConfigForClient,
// NameToCertificate, VerifyPeerCertificate, VerifyConnection, NextProtos,
// ClientAuth, ClientCAs, SessionTicketsDisabled, SessionTicketKey,
// MinVersion, MaxVersion, CurvePreferences, KeyLogWriter), with these
// differences:
//
//   - CipherSuites is copied as it is: a list of TLS 1.2 suites keeps the
//     TLS 1.3 defaults in tlsflow too, and suites tlsflow does not
//     implement (CBC, 3DES, RC4) are ignored.
//   - MinVersion below TLS 1.2 becomes TLS 1.2, tlsflow's floor; a
//     MaxVersion below it is an error.
//   - GetCertificate and GetConfigForClient get a crypto/tls
//     ClientHelloInfo without a Context (crypto/tls keeps it unexported):
//     a callback that calls hello.Context() gets nil. The Config that
//     GetConfigForClient returns is converted by these same rules.
//
// Client-side fields (RootCAs, ServerName, InsecureSkipVerify,
// ClientSessionCache, GetClientCertificate, Renegotiation, the ECH client
// fields) and PreferServerCipherSuites and DynamicRecordSizingDisabled
// (which crypto/tls ignores too) are ignored. Fields that change what the
// server does and that tlsflow cannot honour are an error rather than
// silently dropped: WrapSession and UnwrapSession (a crypto/tls
// SessionState cannot carry a tlsflow session; use Serve with a
// tlsflow.Config and its own WrapSession), EncryptedClientHelloKeys and
// GetEncryptedClientHelloKeys.
func serverConfig(tc *tls.Config) (*tlsflow.Config, error) {
	if tc == nil {
		return &tlsflow.Config{}, nil
	}
	var unsupported []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"WrapSession", tc.WrapSession != nil},
		{"UnwrapSession", tc.UnwrapSession != nil},
		{"EncryptedClientHelloKeys", tc.EncryptedClientHelloKeys != nil},
		{"GetEncryptedClientHelloKeys", tc.GetEncryptedClientHelloKeys != nil},
	} {
		if f.set {
			unsupported = append(unsupported, f.name)
		}
	}
	if len(unsupported) > 0 {
		return nil, fmt.Errorf("tlshttp: srv.TLSConfig sets %s, which tlsflow does not implement", strings.Join(unsupported, ", "))
	}
	if tc.MaxVersion != 0 && tc.MaxVersion < tlsflow.VersionTLS12 {
		return nil, fmt.Errorf("tlshttp: srv.TLSConfig.MaxVersion is %#04x; tlsflow speaks TLS 1.2 and 1.3 only", tc.MaxVersion)
	}
	config := &tlsflow.Config{
		Rand:                   tc.Rand,
		Time:                   tc.Time,
		VerifyPeerCertificate:  tc.VerifyPeerCertificate,
		NextProtos:             tc.NextProtos,
		ClientAuth:             tlsflow.ClientAuthType(tc.ClientAuth), // the same five modes, in the same order
		ClientCAs:              tc.ClientCAs,
		SessionTicketsDisabled: tc.SessionTicketsDisabled,
		MinVersion:             max(tc.MinVersion, tlsflow.VersionTLS12),
		MaxVersion:             tc.MaxVersion,
		KeyLogWriter:           tc.KeyLogWriter,
	}
	for _, c := range tc.Certificates {
		config.Certificates = append(config.Certificates, certificate(&c))
	}
	if get := tc.GetCertificate; get != nil {
		config.GetCertificate = func(hello *tlsflow.ClientHelloInfo) (*tlsflow.Certificate, error) {
			c, err := get(clientHelloInfo(hello))
			if c == nil || err != nil {
				return nil, err
			}
			fc := certificate(c)
			return &fc, nil
		}
	}
	if get := tc.GetConfigForClient; get != nil {
		config.GetConfigForClient = func(hello *tlsflow.ClientHelloInfo) (*tlsflow.Config, error) {
			tc, err := get(clientHelloInfo(hello))
			if tc == nil || err != nil {
				return nil, err
			}
			return serverConfig(tc)
		}
	}
	if tc.NameToCertificate != nil {
		config.NameToCertificate = make(map[string]*tlsflow.Certificate, len(tc.NameToCertificate))
		for name, c := range tc.NameToCertificate {
			fc := certificate(c)
			config.NameToCertificate[name] = &fc
		}
	}
	if verify := tc.VerifyConnection; verify != nil {
		config.VerifyConnection = func(s tlsflow.ConnectionState) error { return verify(ConnectionState(s)) }
	}
	// As in crypto/tls, a list of TLS 1.2 suites leaves TLS 1.3's defaults
	// on; suites tlsflow does not implement (CBC) are ignored.
	config.CipherSuites = slices.Clone(tc.CipherSuites)
	for _, c := range tc.CurvePreferences {
		config.CurvePreferences = append(config.CurvePreferences, tlsflow.CurveID(c))
	}
	config.SessionTicketKey = tc.SessionTicketKey
	return config, nil
}

func certificate(c *tls.Certificate) tlsflow.Certificate {
	fc := tlsflow.Certificate{Certificate: c.Certificate, PrivateKey: c.PrivateKey, Leaf: c.Leaf,
		OCSPStaple: c.OCSPStaple, SignedCertificateTimestamps: c.SignedCertificateTimestamps}
	for _, s := range c.SupportedSignatureAlgorithms {
		fc.SupportedSignatureAlgorithms = append(fc.SupportedSignatureAlgorithms, tlsflow.SignatureScheme(s))
	}
	return fc
}

func clientHelloInfo(h *tlsflow.ClientHelloInfo) *tls.ClientHelloInfo {
	ch := &tls.ClientHelloInfo{
		ServerName:        h.ServerName,
		CipherSuites:      h.CipherSuites,
		SupportedProtos:   h.SupportedProtos,
		SupportedVersions: h.SupportedVersions,
		SupportedPoints:   h.SupportedPoints,
		Extensions:        h.Extensions,
		Conn:              h.Conn,
		HelloRetryRequest: h.HelloRetryRequest,
	}
	for _, c := range h.SupportedCurves {
		ch.SupportedCurves = append(ch.SupportedCurves, tls.CurveID(c))
	}
	for _, s := range h.SignatureSchemes {
		ch.SignatureSchemes = append(ch.SignatureSchemes, tls.SignatureScheme(s))
	}
	return ch
}
