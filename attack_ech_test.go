package tlsflow_test

// Attacks on Encrypted Client Hello (draft-ietf-tls-esni-25). On the
// server: a hostile client seals whatever it likes with the server's real
// ECH key, so everything past decryption is reached — padding, the
// ech_outer_extensions references, the rules on the inner hello, the
// second ClientHello after a HelloRetryRequest. On the client: a hostile
// server answers an ECH offer with malformed confirmations and retry
// configurations.

import (
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// echAttack is one hostile ClientHello pair: the inner hello as the
// client means it, and what it does to the encoding and the outer hello.
type echAttack struct {
	name string
	// inner changes the inner hello before it is encoded.
	inner func(h *wire.ClientHello)
	// encode turns the inner hello into EncodedClientHelloInner; nil
	// compresses nothing and pads nothing.
	encode func(inner, outer *wire.ClientHello) []byte
	// ext changes the outer encrypted_client_hello before sealing.
	ext  func(e *wire.ECHClientHello)
	want alert.Alert
}

// echHellos builds an inner and an outer ClientHello for the fixture's
// server: x25519 with a real key share, one suite, the names.
func echHellos(t *testing.T) (inner, outer *wire.ClientHello) {
	t.Helper()
	key, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	base := func(name string) *wire.ClientHello {
		h := &wire.ClientHello{Version: tlsflow.VersionTLS12, SessionID: make([]byte, 32),
			CipherSuites: []uint16{tlsflow.TLS_AES_128_GCM_SHA256}, CompressionMethods: []uint8{0}}
		rand.Read(h.Random[:])
		h.Extensions.Add(wire.ExtServerName, &wire.ServerName{HostName: name})
		h.Extensions.Add(wire.ExtSupportedGroups, &wire.SupportedGroups{uint16(tlsflow.X25519), uint16(tlsflow.CurveP256)})
		h.Extensions.Add(wire.ExtSignatureAlgorithms, &wire.SignatureAlgorithms{uint16(tlsflow.ECDSAWithP256AndSHA256)})
		h.Extensions.Add(wire.ExtSupportedVersions, &wire.SupportedVersionsClient{tlsflow.VersionTLS13})
		h.Extensions.Add(wire.ExtKeyShare, &wire.KeyShareClientHello{{Group: uint16(tlsflow.X25519), KeyExchange: key.PublicKey().Bytes()}})
		return h
	}
	inner, outer = base("secret.example"), base("public.example")
	inner.SessionID = outer.SessionID
	inner.Extensions.Add(wire.ExtEncryptedClientHello, wire.ECHClientHello{Type: wire.ECHInner})
	return inner, outer
}

// sealECH seals encoded into outer with the fixture's ECH key, as a
// client would (§6.1.1), through sender (a new one if nil).
func sealECH(t *testing.T, e *echSetup, outer *wire.ClientHello, encoded []byte, sender *hpke.Sender, mutate func(*wire.ECHClientHello)) *hpke.Sender {
	t.Helper()
	config, err := wire.ParseECHConfig(e.key.Config)
	if err != nil {
		t.Fatal(err)
	}
	suite := config.CipherSuites[0]
	ext := wire.ECHClientHello{Type: wire.ECHOuter, CipherSuite: suite, ConfigID: config.ConfigID}
	if sender == nil {
		kem, _ := hpke.NewKEM(config.KEM)
		kdf, _ := hpke.NewKDF(suite.KDF)
		aead, _ := hpke.NewAEAD(suite.AEAD)
		pub, err := kem.NewPublicKey(config.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if ext.Enc, sender, err = hpke.NewSender(pub, kdf, aead, append([]byte("tls ech\x00"), config.Raw...)); err != nil {
			t.Fatal(err)
		}
	}
	ext.Payload = make([]byte, len(encoded)+16)
	if mutate != nil {
		mutate(&ext)
	}
	testpeer.SetExtension(outer, wire.ExtEncryptedClientHello, ext)
	aad := must(outer.Body())
	if ext.Payload, err = sender.Seal(aad, encoded); err != nil {
		t.Fatal(err)
	}
	testpeer.SetExtension(outer, wire.ExtEncryptedClientHello, ext)
	return sender
}

// plainEncoding is EncodedClientHelloInner without compression or padding.
func plainEncoding(inner, _ *wire.ClientHello) []byte {
	c := *inner
	c.SessionID = nil
	return must(c.Body())
}

// compressing names refs in ech_outer_extensions in place of the inner
// hello's first extension after server_name.
func compressing(refs ...wire.ExtensionType) func(inner, outer *wire.ClientHello) []byte {
	return func(inner, _ *wire.ClientHello) []byte {
		c := *inner
		c.SessionID = nil
		c.Extensions = append(wire.Extensions(nil), inner.Extensions[:1]...)
		c.Extensions.Add(wire.ExtECHOuterExtensions, wire.OuterExtensions(refs))
		c.Extensions = append(c.Extensions, inner.Extensions[len(inner.Extensions)-1]) // the inner encrypted_client_hello
		return must(c.Body())
	}
}

func TestServerRefusesHostileECHClientHellos(t *testing.T) {
	e := echFixture(t)
	attacks := []echAttack{
		{name: "nonzero padding", encode: func(inner, outer *wire.ClientHello) []byte {
			return append(plainEncoding(inner, outer), 0, 0, 1, 0)
		}, want: alert.IllegalParameter},
		{name: "outer extension missing", encode: compressing(wire.ExtSupportedGroups, wire.ExtPSKKeyExchangeModes), want: alert.IllegalParameter},
		{name: "outer extensions out of order", encode: compressing(wire.ExtKeyShare, wire.ExtSupportedGroups), want: alert.IllegalParameter},
		{name: "outer extension named twice", encode: compressing(wire.ExtSupportedGroups, wire.ExtSupportedGroups), want: alert.IllegalParameter},
		{name: "encrypted_client_hello named", encode: compressing(wire.ExtSupportedGroups, wire.ExtEncryptedClientHello), want: alert.IllegalParameter},
		{name: "empty ech_outer_extensions", encode: compressing(), want: alert.DecodeError},
		{name: "extension both inside and referenced", encode: func(inner, outer *wire.ClientHello) []byte {
			c := *inner
			c.SessionID = nil
			c.Extensions = append(wire.Extensions(nil), inner.Extensions...)
			c.Extensions = append(c.Extensions[:len(c.Extensions)-1], wire.Extension{}, c.Extensions[len(c.Extensions)-1])
			var one wire.Extensions
			one.Add(wire.ExtECHOuterExtensions, wire.OuterExtensions{wire.ExtKeyShare})
			c.Extensions[len(c.Extensions)-2] = one[0]
			return must(c.Body())
		}, want: alert.DecodeError},
		{name: "inner offers TLS 1.2", inner: func(h *wire.ClientHello) {
			testpeer.SetExtension(h, wire.ExtSupportedVersions, &wire.SupportedVersionsClient{tlsflow.VersionTLS13, tlsflow.VersionTLS12})
		}, want: alert.IllegalParameter},
		{name: "inner without inner encrypted_client_hello", inner: func(h *wire.ClientHello) {
			testpeer.RemoveExtension(h, wire.ExtEncryptedClientHello)
		}, want: alert.IllegalParameter},
		{name: "inner with outer encrypted_client_hello", inner: func(h *wire.ClientHello) {
			testpeer.SetExtension(h, wire.ExtEncryptedClientHello, wire.ECHClientHello{Type: wire.ECHOuter, Enc: []byte{1}, Payload: []byte{1}})
		}, want: alert.IllegalParameter},
		{name: "truncated inner hello", encode: func(inner, outer *wire.ClientHello) []byte {
			b := plainEncoding(inner, outer)
			return b[:len(b)-3]
		}, want: alert.DecodeError},
		{name: "unknown ECHClientHello type", ext: func(x *wire.ECHClientHello) { x.Type = 7 }, want: alert.IllegalParameter},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(e.secret), flowCert(e.public)},
				EncryptedClientHelloKeys: []tlsflow.EncryptedClientHelloKey{e.key}}
			p, done := hostileClient(t, cfg, nil)
			inner, outer := echHellos(t)
			if a.inner != nil {
				a.inner(inner)
			}
			encode := plainEncoding
			if a.encode != nil {
				encode = a.encode
			}
			sealECH(t, e, outer, encode(inner, outer), nil, a.ext)
			flowErr := p.Send(outer)
			wantVictimAlert(t, "server", done, sent(a.want, anyStep, ""))
			wantPeerAlert(t, p, flowErr, a.want)
		})
	}
}

type rawECH []byte

func (r rawECH) Marshal() ([]byte, error) { return r, nil }

// A ClientHello of type inner at the top level, to a server with ECH keys:
// only a client-facing server's backend may see one (§7).
func TestServerRefusesInnerECHFromTheNetwork(t *testing.T) {
	e := echFixture(t)
	cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(e.secret)},
		EncryptedClientHelloKeys: []tlsflow.EncryptedClientHelloKey{e.key}}
	p, done := hostileClient(t, cfg, nil)
	inner, _ := echHellos(t)
	flowErr := p.Send(inner)
	wantVictimAlert(t, "server", done, sent(alert.IllegalParameter, anyStep, ""))
	wantPeerAlert(t, p, flowErr, alert.IllegalParameter)
}

// A payload no key opens is not an error: the server goes on with the
// outer hello and sends its retry configurations (§7.1); here the hostile
// client checks they arrive, then stops.
func TestServerAnswersUndecryptableECHWithRetryConfigs(t *testing.T) {
	e := echFixture(t)
	cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(e.secret), flowCert(e.public)},
		EncryptedClientHelloKeys: []tlsflow.EncryptedClientHelloKey{e.key}}
	p, done := hostileClient(t, cfg, nil)
	flowErr := p.ClientHandshake13(&testpeer.ClientOptions{
		ServerName: "public.example",
		Script: testpeer.Script{Mutate: testpeer.MutateType(func(ch *wire.ClientHello) {
			testpeer.SetExtension(ch, wire.ExtEncryptedClientHello, wire.ECHClientHello{Type: wire.ECHOuter,
				CipherSuite: wire.HPKESymmetricCipherSuite{KDF: 1, AEAD: 1}, ConfigID: 7, Enc: testpeer.Random(32), Payload: testpeer.Random(200)})
		})},
	})
	if err := victimErr(t, done); err != nil || flowErr != nil {
		t.Fatalf("server: %v; hostile client: %v; want a completed outer handshake", err, flowErr)
	}
	var retry []byte
	if p.EncryptedExtensions != nil {
		retry, _ = p.EncryptedExtensions.Extensions.Find(wire.ExtEncryptedClientHello)
	}
	if string(retry) != string(e.list) {
		t.Errorf("retry_configs %x, want the server's list %x", retry, e.list)
	}
}

// The second ClientHello after a HelloRetryRequest that accepted ECH:
// without the extension, with enc again, or with a payload that does not
// open under the first hello's HPKE context (§7.1.1).
func TestServerRefusesHostileSecondECHClientHello(t *testing.T) {
	e := echFixture(t)
	for _, tc := range []struct {
		name string
		make func(t *testing.T, sender *hpke.Sender, inner2, outer2 *wire.ClientHello)
		want alert.Alert
	}{
		{"no encrypted_client_hello", func(t *testing.T, _ *hpke.Sender, _, outer2 *wire.ClientHello) {
			testpeer.RemoveExtension(outer2, wire.ExtEncryptedClientHello)
		}, alert.MissingExtension},
		{"enc not empty", func(t *testing.T, s *hpke.Sender, inner2, outer2 *wire.ClientHello) {
			sealECH(t, e, outer2, plainEncoding(inner2, outer2), s, func(x *wire.ECHClientHello) { x.Enc = []byte{1, 2, 3} })
		}, alert.IllegalParameter},
		{"another config_id", func(t *testing.T, s *hpke.Sender, inner2, outer2 *wire.ClientHello) {
			sealECH(t, e, outer2, plainEncoding(inner2, outer2), s, func(x *wire.ECHClientHello) { x.ConfigID++ })
		}, alert.IllegalParameter},
		{"sealed under a new context", func(t *testing.T, _ *hpke.Sender, inner2, outer2 *wire.ClientHello) {
			fresh := sealECH(t, e, outer2, plainEncoding(inner2, outer2), nil, nil)
			_ = fresh
			data, _ := outer2.Extensions.Find(wire.ExtEncryptedClientHello)
			var x wire.ECHClientHello
			_ = x.Unmarshal(data)
			x.Enc = nil
			testpeer.SetExtension(outer2, wire.ExtEncryptedClientHello, x)
		}, alert.DecryptError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(e.secret), flowCert(e.public)},
				EncryptedClientHelloKeys: []tlsflow.EncryptedClientHelloKey{e.key},
				CurvePreferences:         []tlsflow.CurveID{tlsflow.CurveP256}}
			p, done := hostileClient(t, cfg, nil)
			inner, outer := echHellos(t)
			sender := sealECH(t, e, outer, plainEncoding(inner, outer), nil, nil)
			if err := p.Send(outer); err != nil {
				t.Fatal(err)
			}
			hrr := new(wire.ServerHello)
			if err := p.Expect(hrr); err != nil {
				t.Fatal(err)
			}
			if !hrr.IsHelloRetryRequest() || !hrr.Extensions.Has(wire.ExtEncryptedClientHello) {
				t.Fatalf("want a HelloRetryRequest confirming ECH")
			}
			key, _ := ecdh.P256().GenerateKey(rand.Reader)
			inner2, outer2 := *inner, *outer
			inner2.Extensions = append(wire.Extensions(nil), inner.Extensions...)
			outer2.Extensions = append(wire.Extensions(nil), outer.Extensions...)
			share := &wire.KeyShareClientHello{{Group: uint16(tlsflow.CurveP256), KeyExchange: key.PublicKey().Bytes()}}
			testpeer.SetExtension(&inner2, wire.ExtKeyShare, share)
			testpeer.SetExtension(&outer2, wire.ExtKeyShare, share)
			tc.make(t, sender, &inner2, &outer2)
			flowErr := p.Send(&outer2)
			wantVictimAlert(t, "server", done, sent(tc.want, anyStep, ""))
			wantPeerAlert(t, p, flowErr, tc.want)
		})
	}
}

// A hostile server answering an ECH offer: a HelloRetryRequest whose
// encrypted_client_hello is not eight bytes (§6.1.4: decode_error), and
// retry configurations that do not parse (§6.1.6: decode_error).
func TestClientRefusesHostileECHAnswers(t *testing.T) {
	e := echFixture(t)
	client := func() *tlsflow.Config {
		return &tlsflow.Config{RootCAs: e.ca.Pool, ServerName: "secret.example", EncryptedClientHelloConfigList: e.list}
	}
	t.Run("HelloRetryRequest confirmation of 3 bytes", func(t *testing.T) {
		p, done := hostileServer(t, client(), nil)
		flowErr := p.ServerHandshake13(&testpeer.ServerOptions{
			Chain: e.public.Chain, Signer: e.public.Key, HelloRetry: true, Group: uint16(tlsflow.CurveP256),
			Script: testpeer.Script{Mutate: testpeer.MutateType(func(sh *wire.ServerHello) {
				if sh.IsHelloRetryRequest() {
					sh.Extensions.Add(wire.ExtEncryptedClientHello, rawECH{1, 2, 3})
				}
			})},
		})
		wantVictimAlert(t, "client", done, sent(alert.DecodeError, anyStep, ""))
		wantPeerAlert(t, p, flowErr, alert.DecodeError)
	})
	t.Run("malformed retry_configs", func(t *testing.T) {
		p, done := hostileServer(t, client(), nil)
		flowErr := p.ServerHandshake13(&testpeer.ServerOptions{
			Chain: e.public.Chain, Signer: e.public.Key,
			Script: testpeer.Script{Mutate: testpeer.MutateType(func(ee *wire.EncryptedExtensions) {
				ee.Extensions.Add(wire.ExtEncryptedClientHello, rawECH{0, 9, 0xfe, 0x0d, 0, 5, 1, 2})
			})},
		})
		wantVictimAlert(t, "client", done, sent(alert.DecodeError, anyStep, ""))
		wantPeerAlert(t, p, flowErr, alert.DecodeError)
	})
	t.Run("rejected, then a certificate not for the public name", func(t *testing.T) {
		p, done := hostileServer(t, client(), nil)
		flowErr := p.ServerHandshake13(&testpeer.ServerOptions{Chain: e.secret.Chain, Signer: e.secret.Key})
		wantVictimAlert(t, "client", done, sent(alert.BadCertificate, anyStep, ""))
		wantPeerAlert(t, p, flowErr, alert.BadCertificate)
	})
}
