package tlsflow_test

import (
	"bytes"
	"compress/zlib"
	"strings"
	"sync"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// Certificate compression (RFC 8879): tlsflow to tlsflow in each algorithm,
// the server's chain and the client's; then a hostile server's compressed
// certificates: bombs, lies about the length, algorithms not offered.

// notesOf collects the notes of one side's trace.
func notesOf(mu *sync.Mutex, notes *[]string) trace.Hook {
	return func(e trace.Event) {
		if e.Kind == trace.KindNote {
			mu.Lock()
			*notes = append(*notes, e.Message)
			mu.Unlock()
		}
	}
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// TestCertificateCompressionBothWays: each algorithm compresses the
// server's chain and the client's (the server offers compression in its
// CertificateRequest); both chains verify after decompression.
func TestCertificateCompressionBothWays(t *testing.T) {
	for _, alg := range []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib, tlsflow.CertCompressionBrotli, tlsflow.CertCompressionZstd} {
		t.Run(strings.ToLower(map[tlsflow.CertificateCompressionAlgorithm]string{1: "zlib", 2: "brotli", 3: "zstd"}[alg]), func(t *testing.T) {
			var mu sync.Mutex
			var cliNotes, srvNotes []string
			cli, srv := clientConfig13(), serverConfig13(sharedCerts().rsa)
			cli.Certificates = []tlsflow.Certificate{flowCert(sharedCerts().client)}
			srv.ClientAuth, srv.ClientCAs = tlsflow.RequireAndVerifyClientCert, sharedCerts().ca.Pool
			cli.CertificateCompression = []tlsflow.CertificateCompressionAlgorithm{alg}
			srv.CertificateCompression = []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib, tlsflow.CertCompressionBrotli, tlsflow.CertCompressionZstd}
			cli.Trace, srv.Trace = notesOf(&mu, &cliNotes), notesOf(&mu, &srvNotes)
			cs, ss, cliErr, srvErr := pskPair(t, cli, srv)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client %v, server %v", cliErr, srvErr)
			}
			if len(cs.VerifiedChains) == 0 || len(ss.VerifiedChains) == 0 {
				t.Fatal("a chain did not verify")
			}
			mu.Lock()
			defer mu.Unlock()
			for side, notes := range map[string][]string{"client": cliNotes, "server": srvNotes} {
				if count(notes, "certificate compressed") != 1 || count(notes, "certificate decompressed") != 1 {
					t.Errorf("%s compressed %d and decompressed %d chains; want one each", side,
						count(notes, "certificate compressed"), count(notes, "certificate decompressed"))
				}
			}
		})
	}
}

// TestNoCertificateCompressionUnlessBothSidesHaveIt: a side without it
// neither offers nor compresses.
func TestNoCertificateCompressionUnlessBothSidesHaveIt(t *testing.T) {
	var mu sync.Mutex
	var srvNotes []string
	cli, srv := clientConfig13(), serverConfig13(sharedCerts().ecdsa)
	srv.CertificateCompression = []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionBrotli}
	srv.Trace = notesOf(&mu, &srvNotes)
	if _, _, cliErr, srvErr := pskPair(t, cli, srv); cliErr != nil || srvErr != nil {
		t.Fatalf("client %v, server %v", cliErr, srvErr)
	}
	if count(srvNotes, "certificate compressed") != 0 {
		t.Error("the server compressed for a client that did not offer it")
	}
}

// TestCertificateCompressionDeclined: both sides configured, and still
// no chain goes out compressed: in TLS 1.2, where RFC 8879 §3 says "the
// peers MUST ignore this extension", and in TLS 1.3 when the two lists
// share no algorithm. (BoGo's CertCompressionIgnoredBefore13-TLS12 and
// CertCompressionNoCommonAlgs-TLS13 check the same with BoringSSL's test
// algorithms, which tlsflow cannot offer: docs/CONFORMANCE.md.)
func TestCertificateCompressionDeclined(t *testing.T) {
	all := []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib, tlsflow.CertCompressionBrotli, tlsflow.CertCompressionZstd}
	for _, tc := range []struct {
		name     string
		version  uint16
		cli, srv []tlsflow.CertificateCompressionAlgorithm
	}{
		{"TLS 1.2, every algorithm on both sides", tlsflow.VersionTLS12, all, all},
		{"TLS 1.3, no algorithm in common", tlsflow.VersionTLS13,
			[]tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib},
			[]tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionBrotli, tlsflow.CertCompressionZstd}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var cliNotes, srvNotes []string
			cli, srv := clientConfig13(), serverConfig13(sharedCerts().ecdsa)
			cli.Certificates = []tlsflow.Certificate{flowCert(sharedCerts().client)}
			srv.ClientAuth, srv.ClientCAs = tlsflow.RequireAndVerifyClientCert, sharedCerts().ca.Pool
			cli.MaxVersion = tc.version
			cli.CertificateCompression, srv.CertificateCompression = tc.cli, tc.srv
			cli.Trace, srv.Trace = notesOf(&mu, &cliNotes), notesOf(&mu, &srvNotes)
			cs, ss, cliErr, srvErr := pskPair(t, cli, srv)
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client %v, server %v", cliErr, srvErr)
			}
			if cs.Version != tc.version || len(cs.VerifiedChains) == 0 || len(ss.VerifiedChains) == 0 {
				t.Fatalf("version %s, %d and %d verified chains; want %s and both chains verified",
					tlsflow.VersionName(cs.Version), len(cs.VerifiedChains), len(ss.VerifiedChains), tlsflow.VersionName(tc.version))
			}
			mu.Lock()
			defer mu.Unlock()
			for side, notes := range map[string][]string{"client": cliNotes, "server": srvNotes} {
				if n := count(notes, "certificate compressed") + count(notes, "certificate decompressed"); n != 0 {
					t.Errorf("the %s compressed or decompressed %d chains; want none", side, n)
				}
			}
		})
	}
}

// compressedBy is a Script for a hostile TLS 1.3 server: its Certificate
// goes out as the CompressedCertificate make returns (from the real body),
// which CertificateVerify and Finished then cover.
func compressedBy(make func(body []byte) *wire.CompressedCertificate) testpeer.Script {
	return testpeer.Script{
		Before: func(p *testpeer.Peer, m wire.Message) error {
			if c, ok := m.(*wire.Certificate13); ok {
				raw, err := c.Marshal()
				if err != nil {
					return err
				}
				return p.Send(make(raw[4:]))
			}
			return nil
		},
		Skip: testpeer.SkipType(wire.TypeCertificate),
	}
}

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestHostileCompressedCertificates(t *testing.T) {
	honest := func(body []byte) *wire.CompressedCertificate {
		return &wire.CompressedCertificate{Algorithm: wire.CertCompressionZlib, UncompressedLength: uint32(len(body)), Compressed: zlibBytes(body)}
	}
	cases := []struct {
		name   string
		offers []tlsflow.CertificateCompressionAlgorithm
		make   func(body []byte) *wire.CompressedCertificate
		want   alert.Alert // 0: the handshake completes
		text   string
	}{
		{"an honest zlib chain (the control)", []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib}, honest, 0, ""},
		{"a bomb: the body and 4 MiB of zeros, declared as the body's length", []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib},
			func(body []byte) *wire.CompressedCertificate {
				return &wire.CompressedCertificate{Algorithm: wire.CertCompressionZlib, UncompressedLength: uint32(len(body)),
					Compressed: zlibBytes(append(append([]byte{}, body...), make([]byte, 4<<20)...))}
			}, alert.BadCertificate, "uncompressed_length"},
		{"declared longer than a Certificate may be", []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib},
			func(body []byte) *wire.CompressedCertificate {
				c := honest(body)
				c.UncompressedLength = 1 << 20
				return c
			}, alert.BadCertificate, "more than a Certificate may be"},
		{"declared one byte short", []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib},
			func(body []byte) *wire.CompressedCertificate {
				c := honest(body)
				c.UncompressedLength--
				return c
			}, alert.BadCertificate, "uncompressed_length"},
		{"garbage", []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib},
			func(body []byte) *wire.CompressedCertificate {
				return &wire.CompressedCertificate{Algorithm: wire.CertCompressionZlib, UncompressedLength: uint32(len(body)), Compressed: []byte("not zlib")}
			}, alert.BadCertificate, "zlib"},
		{"an algorithm the client did not offer", []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionBrotli}, honest, alert.IllegalParameter, "did not offer"},
		{"a client that offered none", nil, honest, alert.UnexpectedMessage, "offered no certificate compression"},
	}
	c := sharedCerts()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tlsflowClientConfig(0)
			cfg.CertificateCompression = tc.offers
			p, done := hostileServer(t, cfg, nil)
			o := &testpeer.ServerOptions{Chain: c.ecdsa.Chain, Signer: c.ecdsa.Key, Script: compressedBy(tc.make)}
			err := p.ServerHandshake13(o)
			if tc.want == 0 {
				if verr := victimErr(t, done); err != nil || verr != nil {
					t.Fatalf("hostile server %v, client %v; want a completed handshake", err, verr)
				}
				return
			}
			wantVictimAlert(t, "client", done, sent(tc.want, 3, "CompressedCertificate", tc.text))
		})
	}
}

// TestTraceShowsCompressionAndRecordLimits: the trace decodes what a
// student would look for: the algorithms offered in the ClientHello, the
// CompressedCertificate's algorithm and lengths, and the record size limits
// both sides said.
func TestTraceShowsCompressionAndRecordLimits(t *testing.T) {
	var mu sync.Mutex
	fields := map[string]map[string]string{} // message -> field -> value, the client's view
	cli, srv := clientConfig13(), serverConfig13(sharedCerts().ecdsa)
	cli.CertificateCompression = []tlsflow.CertificateCompressionAlgorithm{tlsflow.CertCompressionZlib}
	srv.CertificateCompression = cli.CertificateCompression
	cli.RecordSizeLimit = 4000
	cli.Trace = func(e trace.Event) {
		if e.Kind != trace.KindMessage {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		m := fields[e.Message]
		if m == nil {
			m = map[string]string{}
			fields[e.Message] = m
		}
		for _, f := range e.Fields {
			m[f.Name] = f.Value
		}
	}
	if _, _, cliErr, srvErr := pskPair(t, cli, srv); cliErr != nil || srvErr != nil {
		t.Fatalf("client %v, server %v", cliErr, srvErr)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, w := range []struct{ message, field, value string }{
		{"ClientHello", "compress_certificate", "zlib"},
		{"ClientHello", "record_size_limit", "4000 bytes"},
		{"EncryptedExtensions", "record_size_limit", "16385 bytes"},
		{"Certificate", "certificate_list", ""}, // the chain, decompressed
	} {
		got, ok := fields[w.message][w.field]
		if !ok || (w.value != "" && got != w.value) {
			t.Errorf("%s %s = %q (present %v); want %q", w.message, w.field, got, ok, w.value)
		}
	}
}
