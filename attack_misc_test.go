package tlsflow_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/provider"
)

// TestClientRefusesNonEmptyServerNameAcknowledgement: a server that used
// the client's server_name says so with an extension whose
// extension_data "SHALL be empty" (RFC 6066 §3): in a TLS 1.2
// ServerHello, or in TLS 1.3 EncryptedExtensions (RFC 8446 §4.2). Any data
// there is decode_error, at step 2.
func TestClientRefusesNonEmptyServerNameAcknowledgement(t *testing.T) {
	data := must(wire.ServerName{HostName: "localhost"}.Marshal())
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			p, done := hostileServer(t, tlsflowClientConfig(v.v), nil)
			o := &testpeer.ServerOptions{Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key}
			if v.v == tlsflow.VersionTLS12 {
				o.Mutate = testpeer.MutateType(func(sh *wire.ServerHello) { putExtension(&sh.Extensions, wire.ExtServerName, data) })
			} else {
				o.Mutate = testpeer.MutateType(func(ee *wire.EncryptedExtensions) { putExtension(&ee.Extensions, wire.ExtServerName, data) })
			}
			flowErr := serverHandshake(p, v.v, o)
			wantVictimAlert(t, "client", done, sent(alert.DecodeError, 2, ""))
			wantPeerAlert(t, p, flowErr, alert.DecodeError)
		})
	}
}

// TestClientDetectsEveryDowngradeSentinel: a client that offered TLS 1.3
// and gets a TLS 1.2 ServerHello "MUST check that the last 8 bytes are not
// equal to either of these values" (RFC 8446 §4.1.3): DOWNGRD followed by
// 01 (a TLS 1.2 server that does TLS 1.3) or 00 (one that does TLS 1.2:
// the client's offer was cut to TLS 1.1 or below). Either is
// illegal_parameter at the ServerHello.
func TestClientDetectsEveryDowngradeSentinel(t *testing.T) {
	for _, last := range []byte{0, 1} {
		t.Run(fmt.Sprintf("DOWNGRD%02x", last), func(t *testing.T) {
			p, done := hostileServer(t, tlsflowClientConfig(0), nil)
			flowErr := p.ServerHandshake12(&testpeer.ServerOptions{
				Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key,
				Script: testpeer.Script{Mutate: testpeer.MutateType(func(sh *wire.ServerHello) {
					copy(sh.Random[24:], append([]byte("DOWNGRD"), last))
				})},
			})
			wantVictimAlert(t, "client", done, sent(alert.IllegalParameter, 2, "ServerHello"))
			wantPeerAlert(t, p, flowErr, alert.IllegalParameter)
		})
	}
}

// TestServerRefusesSSLLegacyVersionEvenWithTLS13: "any endpoint receiving
// a Hello message with ClientHello.legacy_version ... set to 0x0300 MUST
// abort the handshake with a "protocol_version" alert" (RFC 8446 Appendix
// D.5), even when supported_versions lists TLS 1.3; older values (0x0200)
// all the more. At step 1, the ClientHello.
func TestServerRefusesSSLLegacyVersionEvenWithTLS13(t *testing.T) {
	for _, legacy := range []uint16{0x0300, 0x0200} {
		t.Run(fmt.Sprintf("%#04x", legacy), func(t *testing.T) {
			p, done := hostileClient(t, tlsflowServerConfig(0), nil)
			flowErr := p.ClientHandshake13(&testpeer.ClientOptions{Script: testpeer.Script{
				Mutate: testpeer.MutateType(func(ch *wire.ClientHello) { ch.Version = legacy })}})
			wantVictimAlert(t, "server", done, sent(alert.ProtocolVersion, 1, "ClientHello"))
			wantPeerAlert(t, p, flowErr, alert.ProtocolVersion)
		})
	}
}

// TestFinishedOfTheWrongLengthIsADecodeError: verify_data has a fixed
// length, 12 bytes in TLS 1.2 (RFC 5246 §7.4.9) and the hash length in
// TLS 1.3 (RFC 8446 §4.4.4); a Finished of another length does not parse
// (decode_error, RFC 8446 §6.2), it is not a wrong MAC (decrypt_error).
// Both sides, both versions.
func TestFinishedOfTheWrongLengthIsADecodeError(t *testing.T) {
	longer := testpeer.Script{Mutate: testpeer.MutateType(func(f *wire.Finished) { f.VerifyData = append(f.VerifyData, 0) })}
	for _, v := range versions {
		t.Run("from the client/"+v.name, func(t *testing.T) {
			p, done := hostileClient(t, tlsflowServerConfig(v.v), nil)
			flowErr := clientHandshake(p, v.v, &testpeer.ClientOptions{Script: longer})
			wantVictimAlert(t, "server", done, sent(alert.DecodeError, 7, "Finished"))
			wantPeerAlert(t, p, flowErr, alert.DecodeError)
		})
		t.Run("from the server/"+v.name, func(t *testing.T) {
			p, done := hostileServer(t, tlsflowClientConfig(v.v), nil)
			flowErr := serverHandshake(p, v.v, &testpeer.ServerOptions{
				Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key, Script: longer})
			wantVictimAlert(t, "client", done, sent(alert.DecodeError, 7, "Finished"))
			wantPeerAlert(t, p, flowErr, alert.DecodeError)
		})
	}
}

// TestTLS13ServerRefusesAWrongClientFinished: a client's verify_data with
// one bit flipped is decrypt_error (RFC 8446 §4.4.4), whether the server
// issued its tickets with its flight (and computed the client's Finished
// then, for the resumption_master_secret) or waits for the Finished first.
func TestTLS13ServerRefusesAWrongClientFinished(t *testing.T) {
	flipped := testpeer.Script{Mutate: testpeer.MutateType(func(f *wire.Finished) { f.VerifyData[0] ^= 1 })}
	for _, tickets := range []bool{true, false} {
		t.Run(fmt.Sprintf("tickets in the flight %v", tickets), func(t *testing.T) {
			cfg := tlsflowServerConfig(tlsflow.VersionTLS13)
			cfg.SessionTicketsDisabled = !tickets
			p, done := hostileClient(t, cfg, nil)
			flowErr := clientHandshake(p, tlsflow.VersionTLS13, &testpeer.ClientOptions{Script: flipped})
			wantVictimAlert(t, "server", done, sent(alert.DecryptError, 7, "Finished"))
			wantPeerAlert(t, p, flowErr, alert.DecryptError)
		})
	}
}

// TestConfigCloneCopiesEveryExportedField: Clone must copy every exported
// field, HandshakeTimeout included; the test sets each to a non-zero value
// by reflection, so a field added later cannot be forgotten silently (the
// test fails asking for a value of a type it does not know).
func TestConfigCloneCopiesEveryExportedField(t *testing.T) {
	var cfg tlsflow.Config
	v := reflect.ValueOf(&cfg).Elem()
	candidates := []any{bytes.NewReader(nil), io.Discard, tlsflow.NewLRUClientSessionCache(1), provider.Stdlib{}}
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(1)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(1)
		case reflect.String:
			f.SetString("x")
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Array:
			f.Index(0).Set(reflect.ValueOf(uint8(1)).Convert(f.Type().Elem()))
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Func:
			ft := f.Type()
			f.Set(reflect.MakeFunc(ft, func([]reflect.Value) []reflect.Value {
				out := make([]reflect.Value, ft.NumOut())
				for j := range out {
					out[j] = reflect.Zero(ft.Out(j))
				}
				return out
			}))
		case reflect.Interface:
			set := false
			for _, c := range candidates {
				if cv := reflect.ValueOf(c); cv.Type().Implements(f.Type()) {
					f.Set(cv)
					set = true
					break
				}
			}
			if !set {
				t.Fatalf("Config.%s: no test value of type %s; add one to the candidates", sf.Name, f.Type())
			}
		default:
			t.Fatalf("Config.%s: no test value of kind %s; teach this test one", sf.Name, f.Kind())
		}
	}
	clone := reflect.ValueOf(cfg.Clone()).Elem()
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		orig, got := v.Field(i), clone.Field(i)
		if orig.Kind() == reflect.Func {
			if got.IsNil() {
				t.Errorf("Clone dropped Config.%s", sf.Name)
			}
			continue
		}
		if !reflect.DeepEqual(orig.Interface(), got.Interface()) {
			t.Errorf("Clone: Config.%s = %v; want %v", sf.Name, got.Interface(), orig.Interface())
		}
	}
}

// TestHostnameErrorsDoNotWriteToSharedCertificates: peer certificates are
// parsed once and shared by every connection holding them (certcache.go),
// so they are read-only. The error for a name the certificate does not
// cover lists the certificate's names, and must not build that list by
// appending to the certificate's own DNSNames: with spare capacity that
// writes into the shared array, a data race when two connections explain
// the same certificate at once. Run it under -race too.
func TestHostnameErrorsDoNotWriteToSharedCertificates(t *testing.T) {
	leaf := sharedCerts().ca.MustServer(pki.ECDSAP256, "one.example", "two.example", "three.example", "127.0.0.1")
	if parsed, _ := x509.ParseCertificate(leaf.Chain[0]); cap(parsed.DNSNames) == len(parsed.DNSNames) {
		t.Fatalf("the test needs DNSNames with spare capacity (len %d, cap %d)", len(parsed.DNSNames), cap(parsed.DNSNames))
	}
	addr := serveTLS(t, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(leaf)}}, func(c *tlsflow.Conn) { c.Handshake() })
	cfg := &tlsflow.Config{RootCAs: sharedCerts().ca.Pool, ServerName: "wrong.example"}
	_, first := dialAndRead(t, addr, cfg)
	var cve *tlsflow.CertificateVerificationError
	if !errors.As(first, &cve) {
		t.Fatalf("connection to the wrong name: %v; want a CertificateVerificationError", first)
	}
	cert := cve.UnverifiedCertificates[0]

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := dialAndRead(t, addr, cfg) // shares cert while first holds it
			for range 20 {
				_ = err.Error()
				_ = first.Error()
			}
		}()
	}
	wg.Wait()
	for i, s := range cert.DNSNames[len(cert.DNSNames):cap(cert.DNSNames)] {
		if s != "" {
			t.Errorf("the shared certificate's DNSNames array was written past its end: [%d] = %q", len(cert.DNSNames)+i, s)
		}
	}
}
