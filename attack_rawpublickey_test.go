package tlsflow_test

import (
	"bytes"
	"crypto"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Attacks on raw public keys (RFC 7250): a hostile peer lies about the
// certificate type, sends the wrong form of Certificate, a key that does
// not parse, is not pinned, is too large, or never proves it holds it.

// announceCertType answers ext with certificate type t where the server's
// answers go: the TLS 1.2 ServerHello, the TLS 1.3 EncryptedExtensions.
func announceCertType(v uint16, ext wire.ExtensionType, t uint8) func(wire.Message) {
	if v == tlsflow.VersionTLS12 {
		return testpeer.MutateType(func(sh *wire.ServerHello) { putExtension(&sh.Extensions, ext, []byte{t}) })
	}
	return testpeer.MutateType(func(ee *wire.EncryptedExtensions) { putExtension(&ee.Extensions, ext, []byte{t}) })
}

// rawForm12 makes a TLS 1.2 flow send spki in RFC 7250's Certificate form
// (one SubjectPublicKeyInfo, no list) in place of its X.509 Certificate.
func rawForm12(s *testpeer.Script, spki []byte) {
	s.Before = func(p *testpeer.Peer, m wire.Message) error {
		if _, ok := m.(*wire.Certificate); ok {
			return p.Send(&wire.RawPublicKeyCertificate12{SubjectPublicKeyInfo: spki})
		}
		return nil
	}
	s.Skip = testpeer.SkipType(wire.TypeCertificate)
}

func TestClientRefusesHostileRawPublicKeyServer(t *testing.T) {
	certs := sharedCerts()
	key := certs.ecdsa.Key
	_, pin := rpkCert(t, key)
	otherKey := certs.rsa.Key
	rpkOnly := func(v uint16) *tlsflow.Config {
		return &tlsflow.Config{MaxVersion: v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{pin}}
	}
	both := func(v uint16) *tlsflow.Config {
		c := tlsflowClientConfig(v)
		c.ServerCertificateTypes, c.TrustedRawPublicKeys = x509RPK, [][]byte{pin}
		return c
	}
	// At the limit a key is parsed (and this one does not parse); one byte
	// over, it is refused before parsing.
	atLimit := bytes.Repeat([]byte{0x30}, limits.Default.RawPublicKey)
	huge := bytes.Repeat([]byte{0x30}, limits.Default.RawPublicKey+1)
	for _, v := range versions {
		for _, tc := range []struct {
			name    string
			only13  bool
			client  *tlsflow.Config
			certTyp int // the server_certificate_type answered; -1 none
			spki    []byte
			chain   [][]byte // an X.509 chain instead of spki
			signer  crypto.Signer
			want    alertWant
		}{
			{name: "RawPublicKey chosen, not offered", client: tlsflowClientConfig(v.v), certTyp: 2, spki: pin, signer: key,
				want: sent(alert.UnsupportedExtension, 2, "")},
			{name: "X509 chosen, RawPublicKey alone offered", client: rpkOnly(v.v), certTyp: 0, chain: certs.ecdsa.Chain, signer: key,
				want: sent(alert.UnsupportedCertificate, 2, "")},
			{name: "no answer (X509), RawPublicKey alone offered", client: rpkOnly(v.v), certTyp: -1, chain: certs.ecdsa.Chain, signer: key,
				want: sent(alert.UnsupportedCertificate, 3, "Certificate")},
			{name: "X.509 certificate after RawPublicKey was chosen", client: rpkOnly(v.v), certTyp: 2, chain: certs.ecdsa.Chain[:1], signer: key,
				want: sent(alert.DecodeError, 3, "Certificate", "not a DER SubjectPublicKeyInfo")},
			{name: "raw key after X509 was chosen", client: both(v.v), certTyp: 0, spki: pin, signer: key,
				want: sent(alert.BadCertificate, 3, "Certificate", "does not parse")},
			{name: "two entries in RawPublicKey form", only13: true, client: rpkOnly(v.v), certTyp: 2, chain: [][]byte{pin, pin}, signer: key,
				want: sent(alert.DecodeError, 3, "Certificate", "2 entries")},
			{name: "SubjectPublicKeyInfo that does not parse", client: rpkOnly(v.v), certTyp: 2, spki: []byte{0x30, 0x03, 0x02, 0x01}, signer: key,
				want: sent(alert.DecodeError, 3, "Certificate", "not a DER SubjectPublicKeyInfo")},
			{name: "garbage after the SubjectPublicKeyInfo", client: rpkOnly(v.v), certTyp: 2, spki: append(bytes.Clone(pin), 0, 0), signer: key,
				want: sent(alert.DecodeError, 3, "Certificate", "2 bytes after it")},
			{name: "a key of an algorithm tlsflow cannot use", client: rpkOnly(v.v), certTyp: 2, spki: testpeer.Ed448SPKI(), signer: key,
				want: sent(alert.UnsupportedCertificate, 3, "Certificate")},
			{name: "a key that is not the pinned one", client: rpkOnly(v.v), certTyp: 2, spki: must(rpkPin(otherKey)), signer: otherKey,
				want: sent(alert.BadCertificate, 3, "Certificate", "not one of TrustedRawPublicKeys")},
			{name: "a raw key at the limit", client: rpkOnly(v.v), certTyp: 2, spki: atLimit, signer: key,
				want: sent(alert.DecodeError, 3, "Certificate", "not a DER SubjectPublicKeyInfo")},
			{name: "a raw key one byte over the limit", client: rpkOnly(v.v), certTyp: 2, spki: huge, signer: key,
				want: sent(alert.BadCertificate, 3, "Certificate", "a raw public key of 4097 bytes, more than the limit of 4096")},
			{name: "signed by another key than the pinned raw key", only13: true, client: rpkOnly(v.v), certTyp: 2, spki: pin, signer: otherKey,
				want: sent(alert.IllegalParameter, 3, "CertificateVerify")},
		} {
			if tc.only13 && v.v != tlsflow.VersionTLS13 {
				continue
			}
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				o := &testpeer.ServerOptions{Signer: tc.signer, Chain: tc.chain}
				if tc.certTyp >= 0 {
					o.Mutate = announceCertType(v.v, wire.ExtServerCertificateType, uint8(tc.certTyp))
				}
				if tc.spki != nil {
					o.Chain = [][]byte{tc.spki}
					if v.v == tlsflow.VersionTLS12 && tc.certTyp == 2 {
						rawForm12(&o.Script, tc.spki)
					}
				}
				p, done := hostileServer(t, tc.client, nil)
				flowErr := serverHandshake(p, v.v, o)
				wantVictimAlert(t, "client", done, tc.want)
				wantPeerAlert(t, p, flowErr, tc.want.alert)
			})
		}
	}
}

// TestClientRefusesUnsignedRawPublicKey: a server that sends the pinned
// key but no CertificateVerify (it does not hold the key) is refused where
// the signature should be.
func TestClientRefusesUnsignedRawPublicKey(t *testing.T) {
	_, pin := rpkCert(t, sharedCerts().ecdsa.Key)
	client := &tlsflow.Config{MaxVersion: tlsflow.VersionTLS13, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{pin}}
	o := &testpeer.ServerOptions{Chain: [][]byte{pin}}
	o.Mutate = announceCertType(tlsflow.VersionTLS13, wire.ExtServerCertificateType, 2)
	o.Skip = testpeer.SkipType(wire.TypeCertificateVerify)
	p, done := hostileServer(t, client, nil)
	flowErr := serverHandshake(p, tlsflow.VersionTLS13, o)
	want := sent(alert.UnexpectedMessage, anyStep, "")
	wantVictimAlert(t, "client", done, want)
	wantPeerAlert(t, p, flowErr, want.alert)
}

func rpkPin(key crypto.Signer) ([]byte, error) {
	cert, err := tlsflow.RawPublicKeyCertificate(key)
	return cert.RawPublicKey, err
}

func TestServerRefusesHostileRawPublicKeyClient(t *testing.T) {
	certs := sharedCerts()
	clientKey := certs.client.Key
	_, clientPin := rpkCert(t, clientKey)
	server := func(v uint16) *tlsflow.Config {
		c := tlsflowServerConfig(v)
		c.ClientAuth, c.ClientCertificateTypes, c.TrustedRawPublicKeys = tlsflow.RequireAnyClientCert, onlyRPK, [][]byte{clientPin}
		return c
	}
	offerTypes := func(list ...byte) func(wire.Message) {
		return testpeer.MutateType(func(ch *wire.ClientHello) {
			putExtension(&ch.Extensions, wire.ExtClientCertificateType, append([]byte{byte(len(list))}, list...))
		})
	}
	for _, v := range versions {
		for _, tc := range []struct {
			name   string
			offer  []byte
			chain  [][]byte
			skipCV bool
			want   alertWant
		}{
			{name: "client_certificate_type of X509 alone", offer: []byte{0}, chain: [][]byte{clientPin},
				want: sent(alert.IllegalParameter, 1, "ClientHello", "X509 alone")},
			{name: "empty client_certificate_type", offer: []byte{}, chain: [][]byte{clientPin},
				want: sent(alert.DecodeError, 1, "ClientHello", "certificate_types")},
			{name: "no client_certificate_type, the server accepts only raw keys", chain: [][]byte{clientPin},
				want: sent(alert.UnsupportedCertificate, 2, "", "no client certificate type in common")},
			{name: "X.509 chain in RawPublicKey form", offer: []byte{2}, chain: certs.client.Chain,
				want: sent(alert.DecodeError, 5, "Certificate")},
			{name: "raw key without CertificateVerify", offer: []byte{2}, chain: [][]byte{clientPin}, skipCV: true,
				want: sent(alert.UnexpectedMessage, anyStep, "")},
		} {
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				o := &testpeer.ClientOptions{Chain: tc.chain, Signer: clientKey}
				if tc.offer != nil {
					o.Mutate = offerTypes(tc.offer...)
				}
				if v.v == tlsflow.VersionTLS12 && tc.offer != nil {
					raw := tc.chain[0]
					if len(tc.chain) > 1 { // the chain's X.509 encoding, read as one key
						raw = must((&wire.Certificate{Chain: tc.chain}).Marshal())[4+3:]
					}
					rawForm12(&o.Script, raw)
				}
				if tc.skipCV {
					o.Skip = testpeer.SkipType(wire.TypeCertificateVerify)
				}
				p, done := hostileClient(t, server(v.v), nil)
				flowErr := clientHandshake(p, v.v, o)
				wantVictimAlert(t, "server", done, tc.want)
				wantPeerAlert(t, p, flowErr, tc.want.alert)
			})
		}
	}
}
