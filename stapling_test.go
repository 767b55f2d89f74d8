package tlsflow_test

import (
	"bytes"
	"crypto/tls"
	"net"
	"slices"
	"testing"

	"github.com/tlsflow/tlsflow"
)

// OCSP staples and signed certificate timestamps, both directions against
// crypto/tls, in both versions: a tlsflow server sends what its Certificate
// holds to a client that asks (crypto/tls always asks), and a tlsflow
// client asks and reports what a crypto/tls server sends.

var (
	testStaple = []byte("an OCSP response, opaque to TLS")
	testSCTs   = [][]byte{[]byte("sct one"), []byte("sct two")}
)

func TestStaplesAndTimestampsBothDirections(t *testing.T) {
	c := sharedCerts()
	for _, v := range versions {
		t.Run(v.name+"/tlsflow server", func(t *testing.T) {
			cert := flowCert(c.ecdsa)
			cert.OCSPStaple, cert.SignedCertificateTimestamps = testStaple, testSCTs
			a, b := net.Pipe()
			defer a.Close()
			go tlsflow.Server(b, &tlsflow.Config{Certificates: []tlsflow.Certificate{cert}, MaxVersion: v.v}).Handshake()
			cli := tls.Client(a, &tls.Config{RootCAs: c.ca.Pool, ServerName: "localhost"})
			if err := cli.Handshake(); err != nil {
				t.Fatal(err)
			}
			st := cli.ConnectionState()
			if !bytes.Equal(st.OCSPResponse, testStaple) || !slices.EqualFunc(st.SignedCertificateTimestamps, testSCTs, bytes.Equal) {
				t.Fatalf("crypto/tls client got OCSP %q, SCTs %q", st.OCSPResponse, st.SignedCertificateTimestamps)
			}
		})
		t.Run(v.name+"/tlsflow client", func(t *testing.T) {
			cert := goCert(c.ecdsa)
			cert.OCSPStaple, cert.SignedCertificateTimestamps = testStaple, testSCTs
			a, b := net.Pipe()
			defer a.Close()
			go tls.Server(b, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: v.v}).Handshake()
			cli := tlsflow.Client(a, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"})
			if err := cli.Handshake(); err != nil {
				t.Fatal(err)
			}
			st := cli.ConnectionState()
			if !bytes.Equal(cli.OCSPResponse(), testStaple) || !slices.EqualFunc(st.SignedCertificateTimestamps, testSCTs, bytes.Equal) {
				t.Fatalf("tlsflow client got OCSP %q, SCTs %q", cli.OCSPResponse(), st.SignedCertificateTimestamps)
			}
		})
	}
}

// TestStaplesSurviveResumption: a resumed connection reports what the full
// handshake's server stapled, as crypto/tls does.
func TestStaplesSurviveResumption(t *testing.T) {
	c := sharedCerts()
	cert := flowCert(c.ecdsa)
	cert.OCSPStaple, cert.SignedCertificateTimestamps = testStaple, testSCTs
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			srv := &tlsflow.Config{Certificates: []tlsflow.Certificate{cert}, MaxVersion: v.v}
			cli := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", ClientSessionCache: tlsflow.NewLRUClientSessionCache(1)}
			for i := range 2 {
				cc, sc := flowPair(t, cli, srv)
				go sc.Write([]byte{1})
				cc.Read(make([]byte, 1))
				st := cc.ConnectionState()
				if st.DidResume != (i == 1) || !bytes.Equal(st.OCSPResponse, testStaple) || len(st.SignedCertificateTimestamps) != 2 {
					t.Fatalf("connection %d: resumed %v, OCSP %q, %d SCTs", i, st.DidResume, st.OCSPResponse, len(st.SignedCertificateTimestamps))
				}
			}
		})
	}
}
