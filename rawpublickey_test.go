package tlsflow_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/trace"
)

// rpkCert is a raw public key Certificate for key, and its pin.
func rpkCert(t testing.TB, key crypto.Signer) (tlsflow.Certificate, []byte) {
	t.Helper()
	cert, err := tlsflow.RawPublicKeyCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	pin, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return cert, pin
}

var (
	onlyRPK = []tlsflow.CertificateType{tlsflow.CertificateTypeRawPublicKey}
	rpkX509 = []tlsflow.CertificateType{tlsflow.CertificateTypeRawPublicKey, tlsflow.CertificateTypeX509}
	x509RPK = []tlsflow.CertificateType{tlsflow.CertificateTypeX509, tlsflow.CertificateTypeRawPublicKey}
)

// pairResult is what each side of one connection ended with.
type pairResult struct {
	client, server       tlsflow.ConnectionState
	clientErr, serverErr error
}

// connectPair runs one handshake between a tlsflow client and server over
// loopback TCP, and one byte each way.
func connectPair(t *testing.T, ccfg, scfg *tlsflow.Config) pairResult {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var r pairResult
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		raw, err := ln.Accept()
		if err != nil {
			r.serverErr = err
			return
		}
		raw.SetDeadline(time.Now().Add(10 * time.Second))
		c := tlsflow.Server(raw, scfg)
		defer c.Close()
		if r.serverErr = c.Handshake(); r.serverErr == nil {
			r.server = c.ConnectionState()
			_, r.serverErr = c.Write([]byte("s"))
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := tlsflow.Client(raw, ccfg)
	if r.clientErr = c.Handshake(); r.clientErr == nil {
		r.client = c.ConnectionState()
		_, r.clientErr = c.Read(make([]byte, 1))
	}
	c.Close()
	wg.Wait()
	return r
}

func TestRawPublicKeyServerAuthentication(t *testing.T) {
	certs := sharedCerts()
	for _, v := range versions {
		for _, key := range []struct {
			name string
			key  crypto.Signer
		}{{"ECDSA", certs.ecdsa.Key}, {"RSA", certs.rsa.Key}, {"Ed25519", certs.ed25519.Key}} {
			t.Run(v.name+"/"+key.name, func(t *testing.T) {
				cert, pin := rpkCert(t, key.key)
				r := connectPair(t,
					&tlsflow.Config{MaxVersion: v.v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{pin}},
					&tlsflow.Config{MaxVersion: v.v, Certificates: []tlsflow.Certificate{cert}})
				if r.clientErr != nil || r.serverErr != nil {
					t.Fatalf("client: %v; server: %v", r.clientErr, r.serverErr)
				}
				for side, st := range map[string]tlsflow.ConnectionState{"client": r.client, "server": r.server} {
					if st.ServerCertificateType != tlsflow.CertificateTypeRawPublicKey || st.ClientCertificateType != tlsflow.CertificateTypeX509 {
						t.Errorf("%s: types server %s, client %s; want RawPublicKey, X509", side, st.ServerCertificateType, st.ClientCertificateType)
					}
				}
				if !bytes.Equal(r.client.PeerRawPublicKey, pin) || len(r.client.PeerCertificates) != 0 {
					t.Errorf("client: PeerRawPublicKey %x, %d certificates; want the pin and none", r.client.PeerRawPublicKey, len(r.client.PeerCertificates))
				}
			})
		}
	}
}

func TestRawPublicKeyMutualAuthentication(t *testing.T) {
	certs := sharedCerts()
	serverCert, serverPin := rpkCert(t, certs.ecdsa.Key)
	clientCert, clientPin := rpkCert(t, certs.client.Key)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			r := connectPair(t,
				&tlsflow.Config{MaxVersion: v.v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{serverPin},
					Certificates: []tlsflow.Certificate{clientCert}},
				&tlsflow.Config{MaxVersion: v.v, Certificates: []tlsflow.Certificate{serverCert},
					ClientAuth: tlsflow.RequireAndVerifyClientCert, ClientCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{clientPin}})
			if r.clientErr != nil || r.serverErr != nil {
				t.Fatalf("client: %v; server: %v", r.clientErr, r.serverErr)
			}
			if !bytes.Equal(r.server.PeerRawPublicKey, clientPin) || r.server.ClientCertificateType != tlsflow.CertificateTypeRawPublicKey {
				t.Errorf("server: PeerRawPublicKey %x, client type %s; want the client's pin, RawPublicKey", r.server.PeerRawPublicKey, r.server.ClientCertificateType)
			}
			if r.client.ClientCertificateType != tlsflow.CertificateTypeRawPublicKey {
				t.Errorf("client: client type %s, want RawPublicKey", r.client.ClientCertificateType)
			}
		})
	}
}

// A server with an X.509 certificate and a raw key shows each client the
// first (in its own order) of a type the client accepts.
func TestRawPublicKeyServerChoosesByClientTypes(t *testing.T) {
	certs := sharedCerts()
	rpk, pin := rpkCert(t, certs.rsa.Key)
	server := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(certs.ecdsa), rpk}}
	for _, tc := range []struct {
		name    string
		accepts []tlsflow.CertificateType
		want    tlsflow.CertificateType
	}{
		{"X509 only", nil, tlsflow.CertificateTypeX509},
		{"RawPublicKey only", onlyRPK, tlsflow.CertificateTypeRawPublicKey},
		{"RawPublicKey then X509", rpkX509, tlsflow.CertificateTypeX509},
		{"X509 then RawPublicKey", x509RPK, tlsflow.CertificateTypeX509},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := tlsflowClientConfig(0)
			client.ServerCertificateTypes, client.TrustedRawPublicKeys = tc.accepts, [][]byte{pin}
			r := connectPair(t, client, server)
			if r.clientErr != nil || r.serverErr != nil {
				t.Fatalf("client: %v; server: %v", r.clientErr, r.serverErr)
			}
			if r.client.ServerCertificateType != tc.want {
				t.Errorf("server certificate type %s, want %s", r.client.ServerCertificateType, tc.want)
			}
		})
	}
}

// A raw key is accepted only through a pin: never without one (the
// configuration is refused), InsecureSkipVerify notwithstanding; a key that
// is not the pinned one, or that VerifyRawPublicKey refuses, is
// bad_certificate.
func TestRawPublicKeyNeedsAPin(t *testing.T) {
	certs := sharedCerts()
	cert, pin := rpkCert(t, certs.ecdsa.Key)
	_, otherPin := rpkCert(t, certs.rsa.Key)
	server := &tlsflow.Config{Certificates: []tlsflow.Certificate{cert}}
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			for _, cfg := range []*tlsflow.Config{
				{MaxVersion: v.v, ServerCertificateTypes: onlyRPK},
				{MaxVersion: v.v, ServerCertificateTypes: onlyRPK, InsecureSkipVerify: true},
			} {
				r := connectPair(t, cfg, server)
				if r.clientErr == nil || !strings.Contains(r.clientErr.Error(), "neither TrustedRawPublicKeys nor VerifyRawPublicKey") {
					t.Errorf("no pin (InsecureSkipVerify %v): client error %v; want the configuration refused", cfg.InsecureSkipVerify, r.clientErr)
				}
			}
			refused := errors.New("not my server")
			for name, cfg := range map[string]*tlsflow.Config{
				"another pin":        {MaxVersion: v.v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{otherPin}},
				"callback refuses":   {MaxVersion: v.v, ServerCertificateTypes: onlyRPK, VerifyRawPublicKey: func([]byte, crypto.PublicKey) error { return refused }},
				"pin and callback":   {MaxVersion: v.v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{pin}, VerifyRawPublicKey: func([]byte, crypto.PublicKey) error { return refused }},
				"insecure wrong pin": {MaxVersion: v.v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{otherPin}, InsecureSkipVerify: true},
			} {
				r := connectPair(t, cfg, server)
				checkAlert(t, name+": client", r.clientErr, sent(alert.BadCertificate, 3, "Certificate"))
				checkAlert(t, name+": server", r.serverErr, received(alert.BadCertificate))
			}
			// A client that accepts only raw keys refuses an X.509 server.
			r := connectPair(t, &tlsflow.Config{MaxVersion: v.v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{pin}},
				tlsflowServerConfig(v.v))
			checkAlert(t, "X.509 server: server", r.serverErr, sent(alert.UnsupportedCertificate, 3, "Certificate"))
		})
	}
}

// A session authenticated by a raw key resumes with it, as long as this
// configuration still accepts that key.
func TestRawPublicKeyResumption(t *testing.T) {
	certs := sharedCerts()
	serverCert, serverPin := rpkCert(t, certs.ecdsa.Key)
	clientCert, clientPin := rpkCert(t, certs.client.Key)
	_, otherPin := rpkCert(t, certs.rsa.Key)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			cache := tlsflow.NewLRUClientSessionCache(4)
			// ServerName keys the session cache (the port changes between
			// connections); a raw key is not checked against it.
			client := &tlsflow.Config{ServerName: "device.example", MaxVersion: v.v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{serverPin},
				Certificates: []tlsflow.Certificate{clientCert}, ClientSessionCache: cache}
			server := &tlsflow.Config{MaxVersion: v.v, Certificates: []tlsflow.Certificate{serverCert},
				ClientAuth: tlsflow.RequireAnyClientCert, ClientCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{clientPin}}
			for i := range 2 {
				r := connectPair(t, client, server)
				if r.clientErr != nil || r.serverErr != nil {
					t.Fatalf("connection %d: client: %v; server: %v", i+1, r.clientErr, r.serverErr)
				}
				if r.client.DidResume != (i == 1) || r.server.DidResume != (i == 1) {
					t.Fatalf("connection %d: DidResume client %v, server %v", i+1, r.client.DidResume, r.server.DidResume)
				}
				if !bytes.Equal(r.client.PeerRawPublicKey, serverPin) || !bytes.Equal(r.server.PeerRawPublicKey, clientPin) ||
					r.client.ServerCertificateType != tlsflow.CertificateTypeRawPublicKey || r.server.ClientCertificateType != tlsflow.CertificateTypeRawPublicKey {
					t.Errorf("connection %d: the raw keys and types are not both sides' (client %+v, server %+v)", i+1, r.client, r.server)
				}
			}
			// Pinned to another key now: the session is not offered, and
			// the full handshake fails on the pin.
			repinned := client.Clone()
			repinned.TrustedRawPublicKeys = [][]byte{otherPin}
			r := connectPair(t, repinned, server)
			checkAlert(t, "repinned client", r.clientErr, sent(alert.BadCertificate, 3, "Certificate"))
		})
	}
}

// The trace says which certificate type was negotiated and that the
// Certificate carried a raw key, not a chain.
func TestRawPublicKeyTrace(t *testing.T) {
	certs := sharedCerts()
	cert, pin := rpkCert(t, certs.ecdsa.Key)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			var mu sync.Mutex
			var events []trace.Event
			hook := func(e trace.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
			r := connectPair(t, &tlsflow.Config{MaxVersion: v.v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{pin}, Trace: hook},
				&tlsflow.Config{MaxVersion: v.v, Certificates: []tlsflow.Certificate{cert}})
			if r.clientErr != nil {
				t.Fatal(r.clientErr)
			}
			field := func(e trace.Event, name string) string {
				for _, f := range e.Fields {
					if f.Name == name {
						return f.Value
					}
				}
				return ""
			}
			var sawType, sawCert, sawVerified, sawSummary bool
			for _, e := range events {
				switch {
				case e.Kind == trace.KindMessage && field(e, "server_certificate_type") == "RawPublicKey" && e.Direction == trace.Received:
					sawType = true
				case e.Kind == trace.KindMessage && e.Message == "Certificate":
					sawCert = field(e, "certificate_type") == "RawPublicKey" && strings.Contains(field(e, "certificate_list"), "no certificate chain") &&
						field(e, "raw_public_key[0].key") != ""
				case e.Kind == trace.KindVerified && e.Message == "Certificate":
					sawVerified = field(e, "raw_public_key") != "" && field(e, "spki_sha256") != ""
				case e.Kind == trace.KindHandshakeDone:
					sawSummary = field(e, "server_certificate_type") == "RawPublicKey"
				}
			}
			if !sawType || !sawCert || !sawVerified || !sawSummary {
				t.Errorf("trace: server_certificate_type answered %v, Certificate shown as a raw key %v, raw key verified %v, in the summary %v",
					sawType, sawCert, sawVerified, sawSummary)
			}
		})
	}
}

// A client whose GetClientCertificate returns a raw key (rather than
// holding it in Certificates) authenticates with it, in both versions.
// (Post-handshake authentication uses X.509 only: the certificate types
// are negotiated only along a CertificateRequest in the handshake, RFC
// 7250 §4.2: "If the server does not send any CertificateRequest message,
// then the client_certificate_type extension in the ServerHello MUST be
// omitted.")
func TestRawPublicKeyFromGetClientCertificate(t *testing.T) {
	certs := sharedCerts()
	serverCert, serverPin := rpkCert(t, certs.ecdsa.Key)
	clientCert, clientPin := rpkCert(t, certs.client.Key)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			asked := 0
			r := connectPair(t,
				&tlsflow.Config{MaxVersion: v.v, ServerCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{serverPin},
					ClientCertificateTypes: onlyRPK,
					GetClientCertificate: func(*tlsflow.CertificateRequestInfo) (*tlsflow.Certificate, error) {
						asked++
						return &clientCert, nil
					}},
				&tlsflow.Config{MaxVersion: v.v, Certificates: []tlsflow.Certificate{serverCert},
					ClientAuth: tlsflow.RequireAndVerifyClientCert, ClientCertificateTypes: onlyRPK, TrustedRawPublicKeys: [][]byte{clientPin}})
			if r.clientErr != nil || r.serverErr != nil {
				t.Fatalf("client: %v; server: %v", r.clientErr, r.serverErr)
			}
			if asked != 1 || !bytes.Equal(r.server.PeerRawPublicKey, clientPin) {
				t.Errorf("GetClientCertificate asked %d times; server's PeerRawPublicKey %x; want once, the client's key", asked, r.server.PeerRawPublicKey)
			}
		})
	}
}
