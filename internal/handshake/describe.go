package handshake

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/tlsflow/tlsflow/internal/certcomp"
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
		d.extensions(m.Extensions, fromClient)
	case *wire.ServerHello:
		d.add("legacy_version", suites.VersionName(m.Version))
		d.add("random", fmt.Sprintf("%x", m.Random))
		d.add("legacy_session_id", hexOrEmpty(m.SessionID))
		d.add("cipher_suite", suites.Name(m.CipherSuite))
		form := fromServer
		if m.IsHelloRetryRequest() {
			form = fromHRR
		}
		d.extensions(m.Extensions, form)
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
	case *wire.CertificateStatusMessage:
		d.add("status_type", "ocsp")
		d.add("ocsp_response", fmt.Sprintf("%d bytes", len(m.OCSPResponse)))
	case *wire.EncryptedExtensions:
		d.extensions(m.Extensions, fromServer)
	case *wire.Certificate13:
		d.add("certificate_request_context", hexOrEmpty(m.Context))
		if m.CertificateType == wire.CertificateTypeRawPublicKey {
			d.rawPublicKey(chainOf(m))
		} else {
			d.certificates(chainOf(m))
		}
	case *wire.RawPublicKeyCertificate12:
		var keys [][]byte
		if len(m.SubjectPublicKeyInfo) > 0 {
			keys = [][]byte{m.SubjectPublicKeyInfo}
		}
		d.rawPublicKey(keys)
	case *wire.CertificateRequest13:
		d.add("certificate_request_context", hexOrEmpty(m.Context))
		d.extensions(m.Extensions, fromServer)
	case *wire.NewSessionTicket:
		d.add("ticket_lifetime_hint", fmt.Sprintf("%ds", m.LifetimeHint))
		d.add("ticket", hexShort(m.Ticket, 16))
	case *wire.NewSessionTicket13:
		d.add("ticket_lifetime", fmt.Sprintf("%ds", m.Lifetime))
		d.add("ticket_age_add", fmt.Sprintf("%d", m.AgeAdd))
		d.add("ticket_nonce", hexOrEmpty(m.Nonce))
		d.add("ticket", hexShort(m.Ticket, 16))
		d.extensions(m.Extensions, fromServer)
	case *wire.KeyUpdate:
		d.add("request_update", keyUpdateName(m.RequestUpdate))
	case *wire.CompressedCertificate:
		d.add("algorithm", certcomp.Name(m.Algorithm))
		d.add("uncompressed_length", fmt.Sprintf("%d bytes", m.UncompressedLength))
		d.add("compressed_certificate_message", fmt.Sprintf("%d bytes", len(m.Compressed)))
	}
	return d.list
}

func keyUpdateName(r uint8) string {
	if r == wire.UpdateRequested {
		return "update_requested"
	}
	return "update_not_requested"
}

type fields struct{ list []trace.Field }

func (d *fields) add(name, value string) {
	d.list = append(d.list, trace.Field{Name: name, Value: value})
}

// extensionForm says which shape extensions with several forms have.
type extensionForm int

const (
	fromClient extensionForm = iota
	fromServer
	fromHRR
)

// extensions lists each extension by name, with its decoded value where we know it.
func (d *fields) extensions(exts wire.Extensions, form extensionForm) {
	names := make([]string, 0, len(exts))
	for _, e := range exts {
		names = append(names, e.Type.String())
	}
	d.add("extensions", strings.Join(names, ", "))
	for _, e := range exts {
		if v, ok := extensionValue(exts, e.Type, form); ok {
			d.add(e.Type.String(), v)
		}
	}
}

func extensionValue(exts wire.Extensions, t wire.ExtensionType, form extensionForm) (string, bool) {
	switch t {
	case wire.ExtServerName:
		var v wire.ServerName
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return v.HostName, true
		}
	case wire.ExtSupportedGroups:
		var v wire.SupportedGroups
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return mapJoin(v, suites.GroupName), true
		}
	case wire.ExtSignatureAlgorithms, wire.ExtSignatureAlgorithmsCert:
		var v wire.SignatureAlgorithms
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return mapJoin(v, signature.Name), true
		}
	case wire.ExtALPN:
		var v wire.ALPN
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return strings.Join(v, ", "), true
		}
	case wire.ExtSupportedVersions:
		var v wire.SupportedVersionsClient
		if ok, err := exts.DecodeWith(t, v.Unmarshal); form == fromClient && ok && err == nil {
			return mapJoin(v, suites.VersionName), true
		}
		var sv wire.SupportedVersionServer
		if ok, err := exts.DecodeWith(t, sv.Unmarshal); ok && err == nil {
			return suites.VersionName(uint16(sv)), true
		}
	case wire.ExtKeyShare:
		return keyShareValue(exts, form)
	case wire.ExtPreSharedKey:
		var ch wire.PreSharedKeyClientHello
		if ok, err := exts.DecodeWith(t, ch.Unmarshal); form == fromClient && ok && err == nil {
			return fmt.Sprintf("%d identity(ies), ticket %s", len(ch.Identities), hexShort(ch.Identities[0].Identity, 8)), true
		}
		var sh wire.PreSharedKeyServerHello
		if ok, err := exts.DecodeWith(t, sh.Unmarshal); ok && err == nil {
			return fmt.Sprintf("selected identity %d", sh.SelectedIdentity), true
		}
	case wire.ExtPSKKeyExchangeModes:
		var v wire.PSKKeyExchangeModes
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return mapJoin(v, pskModeName), true
		}
	case wire.ExtCookie:
		var v wire.Cookie
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return hexShort(v, 8), true
		}
	case wire.ExtCertificateAuthorities:
		var v wire.CertificateAuthorities
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return dnList(v), true
		}
	case wire.ExtRecordSizeLimit:
		var v wire.RecordSizeLimit
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return fmt.Sprintf("%d bytes", v), true
		}
	case wire.ExtCompressCertificate:
		var v wire.CertificateCompressionAlgorithms
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return mapJoin(v, certcomp.Name), true
		}
	case wire.ExtEncryptedClientHello:
		return echValue(exts, form)
	case wire.ExtECHOuterExtensions:
		var v wire.OuterExtensions
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return "taken from the outer ClientHello: " + mapJoin(v, wire.ExtensionType.String), true
		}
	case wire.ExtServerCertificateType, wire.ExtClientCertificateType:
		if form == fromClient {
			v := wire.CertificateTypeList{Ext: t}
			if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
				return certTypeNames(v.Types), true
			}
			return "", false
		}
		v := wire.CertificateTypeSelected{Ext: t}
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil {
			return wire.CertificateTypeName(v.Type), true
		}
	case wire.ExtEarlyData:
		var v wire.EarlyDataIndication
		if ok, err := exts.DecodeWith(t, v.Unmarshal); ok && err == nil && v.InNewSessionTicket {
			return fmt.Sprintf("max_early_data_size %d bytes", v.MaxEarlyDataSize), true
		}
	}
	return "", false
}

// echValue shows encrypted_client_hello (draft-ietf-tls-esni-25 §5) in
// its forms: the sealed inner hello, the inner mark, a HelloRetryRequest's
// confirmation, EncryptedExtensions' retry configurations.
func echValue(exts wire.Extensions, form extensionForm) (string, bool) {
	data, _ := exts.Find(wire.ExtEncryptedClientHello)
	switch form {
	case fromClient:
		var ch wire.ECHClientHello
		if err := ch.Unmarshal(data); err != nil {
			return "", false
		}
		if ch.Type == wire.ECHInner {
			return "inner (this is the ClientHello the server reads)", true
		}
		return fmt.Sprintf("outer: config_id %d, HPKE KDF %#04x AEAD %#04x, enc %d bytes, the inner ClientHello sealed in %d bytes",
			ch.ConfigID, ch.CipherSuite.KDF, ch.CipherSuite.AEAD, len(ch.Enc), len(ch.Payload)), true
	case fromHRR:
		return "confirmation " + hexShort(data, 8), true
	default:
		configs, err := wire.ParseECHConfigList(data)
		if err != nil {
			return "", false
		}
		var names []string
		for _, c := range configs {
			names = append(names, fmt.Sprintf("config_id %d for %s", c.ConfigID, c.PublicName))
		}
		return "retry_configs: " + strings.Join(names, ", "), true
	}
}

// keyShareValue shows a key_share in any of its three forms, with the
// key material shortened.
func keyShareValue(exts wire.Extensions, form extensionForm) (string, bool) {
	switch form {
	case fromClient:
		var ch wire.KeyShareClientHello
		if ok, err := exts.DecodeWith(wire.ExtKeyShare, ch.Unmarshal); ok && err == nil {
			return mapJoin([]wire.KeyShareEntry(ch), shareName), true
		}
	case fromServer:
		var sh wire.KeyShareServerHello
		if ok, err := exts.DecodeWith(wire.ExtKeyShare, sh.Unmarshal); ok && err == nil {
			return shareName(wire.KeyShareEntry(sh)), true
		}
	case fromHRR:
		var hrr wire.KeyShareHelloRetryRequest
		if ok, err := exts.DecodeWith(wire.ExtKeyShare, hrr.Unmarshal); ok && err == nil {
			return "selected_group " + suites.GroupName(hrr.SelectedGroup), true
		}
	}
	return "", false
}

func shareName(e wire.KeyShareEntry) string {
	return fmt.Sprintf("%s %s", suites.GroupName(e.Group), hexShort(e.KeyExchange, 8))
}

func pskModeName(m uint8) string {
	switch m {
	case pskModePlain:
		return "psk_ke"
	case pskModeDHE:
		return "psk_dhe_ke"
	}
	return fmt.Sprintf("psk_mode(%d)", m)
}

// rawPublicKey describes the Certificate of a side whose certificate type
// is RawPublicKey (RFC 7250): no chain, one SubjectPublicKeyInfo, shown by
// its key and its SHA-256 (what a pin compares).
func (d *fields) rawPublicKey(keys [][]byte) {
	d.add("certificate_type", wire.CertificateTypeName(wire.CertificateTypeRawPublicKey))
	if len(keys) == 0 {
		d.add("certificate_list", "no raw public key")
		return
	}
	d.add("certificate_list", fmt.Sprintf("%d raw public key(s), no certificate chain", len(keys)))
	for i, spki := range keys {
		p := fmt.Sprintf("raw_public_key[%d].", i)
		key, err := x509.ParsePKIXPublicKey(spki)
		if err != nil {
			d.add(p+"error", err.Error())
			continue
		}
		d.add(p+"key", keyName(key))
		d.add(p+"spki_sha256", fmt.Sprintf("%x", sha256.Sum256(spki)))
	}
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

// Describe is describe for an observer outside the engines (package
// capture reads handshakes from a packet capture): the same fields under
// the same names, so every renderer shows an observed handshake as it
// shows one tlsflow took part in.
func Describe(m wire.Message) []trace.Field { return describe(m) }

// MessageName is the name the trace gives m: its handshake type, with a
// ServerHello that is a HelloRetryRequest called so and both forms of
// ClientKeyExchange called ClientKeyExchange.
func MessageName(m wire.Message) string { return messageName(m) }
