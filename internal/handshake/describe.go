package handshake

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/tlsflow/tlsflow/internal/signature"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// describe decodes a message into trace fields named after the RFCs'
// presentation language. It runs only when a trace hook is set.
func describe(m wire.Message) []trace.Field {
	var d fields
	switch m := m.(type) {
	case *wire.ClientHello:
		d.add("legacy_version", suites.VersionName(m.Version))
		d.add("random", fmt.Sprintf("%x", m.Random))
		d.add("legacy_session_id", hexOrEmpty(m.SessionID))
		d.add("cipher_suites", mapJoin(m.CipherSuites, suites.Name))
		d.extensions(m.Extensions)
	case *wire.ServerHello:
		d.add("legacy_version", suites.VersionName(m.Version))
		d.add("random", fmt.Sprintf("%x", m.Random))
		d.add("legacy_session_id", hexOrEmpty(m.SessionID))
		d.add("cipher_suite", suites.Name(m.CipherSuite))
		d.extensions(m.Extensions)
	case *wire.Certificate:
		d.certificates(m.Chain)
	case *wire.ServerKeyExchange:
		d.add("named_curve", suites.GroupName(m.Group))
		d.add("public", hexShort(m.PublicKey, 16))
		d.add("signature_scheme", signature.Name(m.SignatureScheme))
		d.add("signature", hexShort(m.Signature, 16))
	case *wire.CertificateRequest:
		d.add("certificate_types", mapJoin(m.CertificateTypes, certTypeName))
		d.add("supported_signature_algorithms", mapJoin(m.SignatureAlgorithms, signature.Name))
		d.add("certificate_authorities", dnListOrNone(m.CertificateAuthorities))
	case *wire.ServerHelloDone:
	case *wire.ClientKeyExchangeRSA:
		d.add("encrypted_pre_master_secret", hexShort(m.EncryptedPreMasterSecret, 16))
	case *wire.ClientKeyExchangeECDHE:
		d.add("public", hexShort(m.PublicKey, 16))
	case *wire.CertificateVerify:
		d.add("signature_scheme", signature.Name(m.SignatureScheme))
		d.add("signature", hexShort(m.Signature, 16))
	case *wire.Finished:
		d.add("verify_data", fmt.Sprintf("%x", m.VerifyData))
	}
	return d.list
}

type fields struct{ list []trace.Field }

func (d *fields) add(name, value string) {
	d.list = append(d.list, trace.Field{Name: name, Value: value})
}

// extensions lists each extension by name, with its decoded value where we know it.
func (d *fields) extensions(exts wire.Extensions) {
	names := make([]string, 0, len(exts))
	for _, e := range exts {
		names = append(names, e.Type.String())
	}
	d.add("extensions", strings.Join(names, ", "))
	for _, e := range exts {
		if v, ok := extensionValue(exts, e.Type); ok {
			d.add(e.Type.String(), v)
		}
	}
}

func extensionValue(exts wire.Extensions, t wire.ExtensionType) (string, bool) {
	switch t {
	case wire.ExtServerName:
		var v wire.ServerName
		if ok, err := exts.Decode(t, &v); ok && err == nil {
			return v.HostName, true
		}
	case wire.ExtSupportedGroups:
		var v wire.SupportedGroups
		if ok, err := exts.Decode(t, &v); ok && err == nil {
			return mapJoin(v, suites.GroupName), true
		}
	case wire.ExtSignatureAlgorithms, wire.ExtSignatureAlgorithmsCert:
		var v wire.SignatureAlgorithms
		if ok, err := exts.Decode(t, &v); ok && err == nil {
			return mapJoin(v, signature.Name), true
		}
	case wire.ExtALPN:
		var v wire.ALPN
		if ok, err := exts.Decode(t, &v); ok && err == nil {
			return strings.Join(v, ", "), true
		}
	case wire.ExtSupportedVersions:
		var v wire.SupportedVersionsClient
		if ok, err := exts.Decode(t, &v); ok && err == nil {
			return mapJoin(v, suites.VersionName), true
		}
		var sv wire.SupportedVersionServer
		if ok, err := exts.Decode(t, &sv); ok && err == nil {
			return suites.VersionName(uint16(sv)), true
		}
	}
	return "", false
}

// certificates describes a chain: subject, issuer, validity and key of each.
func (d *fields) certificates(chain [][]byte) {
	d.add("certificate_list", fmt.Sprintf("%d certificate(s)", len(chain)))
	for i, der := range chain {
		p := fmt.Sprintf("certificate[%d].", i)
		c, err := x509.ParseCertificate(der)
		if err != nil {
			d.add(p+"error", err.Error())
			continue
		}
		d.add(p+"subject", c.Subject.String())
		d.add(p+"issuer", c.Issuer.String())
		d.add(p+"not_before", c.NotBefore.UTC().Format(time.RFC3339))
		d.add(p+"not_after", c.NotAfter.UTC().Format(time.RFC3339))
		d.add(p+"key", keyName(c.PublicKey))
		if len(c.DNSNames) > 0 {
			d.add(p+"dns_names", strings.Join(c.DNSNames, ", "))
		}
	}
}

func mapJoin[T any](list []T, name func(T) string) string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = name(v)
	}
	return strings.Join(out, ", ")
}

func hexOrEmpty(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	return fmt.Sprintf("%x", b)
}

func dnListOrNone(names [][]byte) string {
	if len(names) == 0 {
		return "(any)"
	}
	return dnList(names)
}

func certTypeName(t uint8) string {
	switch t {
	case certTypeRSASign:
		return "rsa_sign"
	case certTypeECDSASign:
		return "ecdsa_sign"
	}
	return fmt.Sprintf("certificate_type(%d)", t)
}
