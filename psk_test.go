package tlsflow_test

import (
	"bytes"
	"crypto"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/trace"
)

var (
	pskKey    = bytes.Repeat([]byte{0x5a}, 32)
	pskOther  = bytes.Repeat([]byte{0xa5}, 32)
	clientPSK = tlsflow.ExternalPSK{Identity: []byte("device-17"), Key: pskKey}
)

// pskPair runs a handshake between tlsflow peers and returns both states
// (zero on failure) and errors.
func pskPair(t *testing.T, cli, srv *tlsflow.Config) (cs, ss tlsflow.ConnectionState, cliErr, srvErr error) {
	t.Helper()
	a, b := testpeer.Loopback(t, 10*time.Second)
	done := make(chan error, 1)
	server := tlsflow.Server(b, srv)
	go func() { done <- server.Handshake() }()
	client := tlsflow.Client(a, cli)
	cliErr = client.Handshake()
	if cliErr != nil {
		a.Close()
	}
	srvErr = <-done
	if cliErr == nil {
		cs = client.ConnectionState()
	}
	if srvErr == nil {
		ss = server.ConnectionState()
	}
	return cs, ss, cliErr, srvErr
}

// TestExternalPSKAuthenticatesBothSides: a client with an external PSK and
// no ServerName, and a server with the same PSK and no certificate, finish
// a TLS 1.3 handshake that the PSK alone authenticates: no certificate on
// either side, the identity in both ConnectionStates, ECDHE all the same,
// and a suite of the PSK's hash although the server ranks AES-256-GCM
// (SHA-384) first.
func TestExternalPSKAuthenticatesBothSides(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hash  crypto.Hash
		suite uint16
	}{
		{"SHA-256", 0, tlsflow.TLS_CHACHA20_POLY1305_SHA256}, // the server ranks 256-bit keys first
		{"SHA-384", crypto.SHA384, tlsflow.TLS_AES_256_GCM_SHA384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			psk := clientPSK
			psk.Hash = tc.hash
			cs, ss, cliErr, srvErr := pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{psk}},
				&tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{psk}})
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client: %v; server: %v", cliErr, srvErr)
			}
			for side, st := range map[string]tlsflow.ConnectionState{"client": cs, "server": ss} {
				if string(st.ExternalPSKIdentity) != "device-17" || len(st.PeerCertificates) != 0 || st.DidResume ||
					st.Version != tlsflow.VersionTLS13 || st.CipherSuite != tc.suite || st.CurveID == 0 {
					t.Errorf("%s: identity %q, %d peer certificates, resumed %v, %s, %s, group %v; want the PSK, no certificate, %s with ECDHE",
						side, st.ExternalPSKIdentity, len(st.PeerCertificates), st.DidResume, tlsflow.VersionName(st.Version),
						tlsflow.CipherSuiteName(st.CipherSuite), st.CurveID, tlsflow.CipherSuiteName(tc.suite))
				}
			}
		})
	}
}

// TestImportedPSK: both sides import the key (RFC 9258); the server's
// first-ranked SHA-384 suite is used, since an imported PSK exists for it
// too. A key imported on one side only is not the same PSK: the binder
// labels differ (RFC 9258 §5.2), the server finds no PSK and, having no
// certificate, fails; the handshake never completes.
func TestImportedPSK(t *testing.T) {
	imported := tlsflow.ExternalPSK{Identity: []byte("device-17"), Key: pskKey, Import: true, Context: []byte("client→server")}
	cs, ss, cliErr, srvErr := pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{imported}},
		&tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{imported}})
	if cliErr != nil || srvErr != nil {
		t.Fatalf("client: %v; server: %v", cliErr, srvErr)
	}
	if string(cs.ExternalPSKIdentity) != "device-17" || string(ss.ExternalPSKIdentity) != "device-17" || cs.CipherSuite != tlsflow.TLS_AES_256_GCM_SHA384 {
		t.Errorf("identities %q / %q, suite %s; want the imported PSK with TLS_AES_256_GCM_SHA384",
			cs.ExternalPSKIdentity, ss.ExternalPSKIdentity, tlsflow.CipherSuiteName(cs.CipherSuite))
	}

	for name, cfgs := range map[string][2]tlsflow.ExternalPSK{
		"client imports":         {imported, clientPSK},
		"server imports":         {clientPSK, imported},
		"another import context": {imported, {Identity: imported.Identity, Key: pskKey, Import: true, Context: []byte("server→client")}},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, cliErr, srvErr := pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{cfgs[0]}},
				&tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{cfgs[1]}})
			if cliErr == nil || srvErr == nil {
				t.Fatalf("client: %v; server: %v; want the handshake to fail", cliErr, srvErr)
			}
		})
	}
}

// TestExternalPSKWrongKeyIsDecryptError: the same identity with another
// key gives a binder the server cannot verify: decrypt_error, and no fall
// back to certificates although the server has one (RFC 8446 §4.2.11: "If
// this value is not present or does not validate, the server MUST abort
// the handshake").
func TestExternalPSKWrongKeyIsDecryptError(t *testing.T) {
	c := sharedCerts()
	wrong := tlsflow.ExternalPSK{Identity: clientPSK.Identity, Key: pskOther}
	_, _, cliErr, srvErr := pskPair(t,
		&tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{wrong}, RootCAs: c.ca.Pool, ServerName: "localhost"},
		&tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}, Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	var sent, received tlsflow.AlertError
	if !errors.As(srvErr, &sent) || sent != tlsflow.AlertError(51) || !errors.As(cliErr, &received) || received != tlsflow.AlertError(51) {
		t.Fatalf("server: %v; client: %v; want decrypt_error (51) sent and received", srvErr, cliErr)
	}
}

// TestExternalPSKBesideCertificates: a server with a certificate and a
// PSK authenticates a client that holds the PSK by the PSK (no
// certificate sent, none asked for although ClientAuth requires one: RFC
// 8446 §4.3.2), and a client without it by certificates; a client with a
// PSK the server does not know, and a ServerName, falls back to the
// certificate.
func TestExternalPSKBesideCertificates(t *testing.T) {
	c := sharedCerts()
	srv := &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}, Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)},
		ClientAuth: tlsflow.RequireAndVerifyClientCert, ClientCAs: c.ca.Pool}
	cs, ss, cliErr, srvErr := pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}, RootCAs: c.ca.Pool, ServerName: "localhost"}, srv)
	if cliErr != nil || srvErr != nil {
		t.Fatalf("with the PSK: client: %v; server: %v", cliErr, srvErr)
	}
	if len(cs.PeerCertificates) != 0 || len(ss.PeerCertificates) != 0 || ss.ExternalPSKIdentity == nil {
		t.Errorf("with the PSK: %d / %d peer certificates, identity %q; want the PSK alone", len(cs.PeerCertificates), len(ss.PeerCertificates), ss.ExternalPSKIdentity)
	}

	unknown := tlsflow.ExternalPSK{Identity: []byte("someone else"), Key: pskOther}
	cs, _, cliErr, srvErr = pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{unknown}, RootCAs: c.ca.Pool, ServerName: "localhost",
		Certificates: []tlsflow.Certificate{flowCert(c.client)}}, srv)
	if cliErr != nil || srvErr != nil {
		t.Fatalf("with an unknown PSK: client: %v; server: %v", cliErr, srvErr)
	}
	if len(cs.PeerCertificates) == 0 || cs.ExternalPSKIdentity != nil {
		t.Errorf("with an unknown PSK: %d peer certificates, identity %q; want certificate authentication", len(cs.PeerCertificates), cs.ExternalPSKIdentity)
	}
}

// TestExternalPSKOnlyClientRefusesCertificates: a client whose only way to
// authenticate the server is its PSK (no ServerName) refuses a server that
// answers with a certificate instead, however valid: it could not check
// the name, and a certificate for any name would pass.
func TestExternalPSKOnlyClientRefusesCertificates(t *testing.T) {
	c := sharedCerts()
	_, _, cliErr, _ := pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}, RootCAs: c.ca.Pool},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	var e *tlsflow.Error
	if !errors.As(cliErr, &e) || e.Alert.String() != "handshake_failure" || !strings.Contains(cliErr.Error(), "external PSK") {
		t.Fatalf("client: %v; want handshake_failure saying the server used none of our external PSKs", cliErr)
	}
}

// TestExternalPSKWithoutECDHE: psk_ke only when both sides allow it.
func TestExternalPSKWithoutECDHE(t *testing.T) {
	plain := clientPSK
	plain.WithoutECDHE = true
	for _, tc := range []struct {
		name     string
		cli, srv tlsflow.ExternalPSK
		ecdhe    bool
	}{
		{"both allow psk_ke", plain, plain, false},
		{"the client only", plain, clientPSK, true},
		{"the server only", clientPSK, plain, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, ss, cliErr, srvErr := pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{tc.cli}},
				&tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{tc.srv}})
			if cliErr != nil || srvErr != nil {
				t.Fatalf("client: %v; server: %v", cliErr, srvErr)
			}
			if (cs.CurveID != 0) != tc.ecdhe || (ss.CurveID != 0) != tc.ecdhe {
				t.Errorf("groups %v / %v; want ECDHE %v", cs.CurveID, ss.CurveID, tc.ecdhe)
			}
		})
	}
}

// TestGetExternalPSK: a server finds keys through its lookup, once per
// identity, for plain and imported PSKs; an error of the lookup ends the
// handshake with internal_error.
func TestGetExternalPSK(t *testing.T) {
	imported := tlsflow.ExternalPSK{Identity: []byte("device-18"), Key: pskOther, Import: true}
	var calls atomic.Int32
	srv := &tlsflow.Config{GetExternalPSK: func(identity []byte) (*tlsflow.ExternalPSK, error) {
		calls.Add(1)
		switch string(identity) {
		case "device-17":
			return &clientPSK, nil
		case "device-18":
			return &imported, nil
		case "broken":
			return nil, errors.New("the key store is down")
		}
		return nil, nil
	}}
	for _, psk := range []tlsflow.ExternalPSK{clientPSK, imported} {
		calls.Store(0)
		cs, _, cliErr, srvErr := pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{psk}}, srv)
		if cliErr != nil || srvErr != nil || !bytes.Equal(cs.ExternalPSKIdentity, psk.Identity) {
			t.Fatalf("%s: client: %v; server: %v; identity %q", psk.Identity, cliErr, srvErr, cs.ExternalPSKIdentity)
		}
		if n := calls.Load(); n > 3 {
			t.Errorf("%s: %d lookups; want each identity looked up once (an imported one twice: as imported, as plain)", psk.Identity, n)
		}
	}
	_, _, _, srvErr := pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{{Identity: []byte("broken"), Key: pskKey}}}, srv)
	var sent tlsflow.AlertError
	if !errors.As(srvErr, &sent) || sent != tlsflow.AlertError(80) || !strings.Contains(srvErr.Error(), "the key store is down") {
		t.Fatalf("server: %v; want internal_error with the lookup's error", srvErr)
	}
}

// TestExternalPSKConfigErrors: keys too short to be keys, hashes TLS 1.3
// has no suite for, a context without an import, a PSK with TLS 1.3 off:
// each is refused before any byte is sent.
func TestExternalPSKConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		psk  tlsflow.ExternalPSK
		max  uint16
		want string
	}{
		"short key":          {tlsflow.ExternalPSK{Identity: []byte("a"), Key: []byte("secret")}, 0, "at least 16"},
		"no identity":        {tlsflow.ExternalPSK{Key: pskKey}, 0, "1 to 65535"},
		"SHA-512":            {tlsflow.ExternalPSK{Identity: []byte("a"), Key: pskKey, Hash: crypto.SHA512}, 0, "SHA-256 or SHA-384"},
		"context, no import": {tlsflow.ExternalPSK{Identity: []byte("a"), Key: pskKey, Context: []byte("x")}, 0, "no Import"},
		"TLS 1.2 only":       {clientPSK, tlsflow.VersionTLS12, "need TLS 1.3"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, cliErr, _ := pskPair(t, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{tc.psk}, MaxVersion: tc.max, InsecureSkipVerify: true},
				&tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}})
			var e *tlsflow.Error
			if !errors.As(cliErr, &e) || e.Step != 0 || !strings.Contains(cliErr.Error(), tc.want) {
				t.Fatalf("client: %v; want a configuration error saying %q", cliErr, tc.want)
			}
		})
	}
}

// TestExternalPSKTrace: the trace says which PSK was offered and taken.
func TestExternalPSKTrace(t *testing.T) {
	var notes []string
	cli := &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}, Trace: func(e trace.Event) {
		if e.Kind == trace.KindNote {
			notes = append(notes, e.Message)
		}
	}}
	if _, _, cliErr, srvErr := pskPair(t, cli, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}}); cliErr != nil || srvErr != nil {
		t.Fatalf("client: %v; server: %v", cliErr, srvErr)
	}
	got := strings.Join(notes, "; ")
	if !strings.Contains(got, "external PSK offered") || !strings.Contains(got, "external PSK accepted") {
		t.Errorf("client notes %q; want the offer and the acceptance", got)
	}
}

// TestExternalPSKSessionsResume: a handshake the PSK authenticated gives a
// session that resumes while both sides still hold that PSK; the resumed
// connection names it. A side that no longer holds it does not resume:
// the client does not offer the session, the server declines it, and a
// full handshake with another PSK follows.
func TestExternalPSKSessionsResume(t *testing.T) {
	other := tlsflow.ExternalPSK{Identity: []byte("device-18"), Key: pskOther}
	srv := &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK, other}}
	addr := serveTLS(t, srv, nil)
	cache := tlsflow.NewLRUClientSessionCache(4)
	cli := &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK}, ClientSessionCache: cache}
	for i, want := range []bool{false, true} {
		st, err := dialNoName(t, addr, cli)
		if err != nil || st.DidResume != want || string(st.ExternalPSKIdentity) != "device-17" {
			t.Fatalf("connection %d: %v, resumed %v, identity %q; want resumed %v under device-17", i, err, st.DidResume, st.ExternalPSKIdentity, want)
		}
	}

	t.Run("the client dropped the PSK", func(t *testing.T) {
		st, err := dialNoName(t, addr, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{other}, ClientSessionCache: cache})
		if err != nil || st.DidResume || string(st.ExternalPSKIdentity) != "device-18" {
			t.Fatalf("%v, resumed %v under %q; want a full handshake with device-18", err, st.DidResume, st.ExternalPSKIdentity)
		}
	})
	t.Run("the server dropped the PSK", func(t *testing.T) {
		srv2 := srv.Clone() // the same ticket keys: the session opens, and the rule decides
		srv2.ExternalPSKs = []tlsflow.ExternalPSK{other}
		addr2 := serveTLS(t, srv2, nil)
		cache2 := tlsflow.NewLRUClientSessionCache(4)
		both := &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{clientPSK, other}, ClientSessionCache: cache2}
		if _, err := dialNoName(t, addr, both); err != nil { // a session of device-17 from srv, cached...
			t.Fatal(err)
		}
		if s, ok := cache2.Get(addr); ok {
			cache2.Put(addr2, s) // ...and offered to srv2
		}
		st, err := dialNoName(t, addr2, both)
		if err != nil || st.DidResume || string(st.ExternalPSKIdentity) != "device-18" {
			t.Fatalf("%v, resumed %v under %q; want the session declined and device-18 used", err, st.DidResume, st.ExternalPSKIdentity)
		}
	})
}

// TestPSKOnlyClientDoesNotResumeACertificateSession: a client that can
// check only PSKs (no ServerName) shares a session cache with one that
// skipped certificate verification; the unverified certificate session
// under the same cache key (the address) is not resumed by it: the PSK
// authenticates instead.
func TestPSKOnlyClientDoesNotResumeACertificateSession(t *testing.T) {
	c := sharedCerts()
	// SHA-384, the hash of the certificate session's suite: the server
	// could take either PSK, and the first offered is the session.
	psk := clientPSK
	psk.Hash = crypto.SHA384
	srv := &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{psk}, Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}
	addr := serveTLS(t, srv, nil)
	cache := tlsflow.NewLRUClientSessionCache(4)
	st, err := dialNoName(t, addr, &tlsflow.Config{InsecureSkipVerify: true, ClientSessionCache: cache})
	if err != nil || st.ExternalPSKIdentity != nil {
		t.Fatalf("the unverified connection: %v (PSK %q)", err, st.ExternalPSKIdentity)
	}
	if _, ok := cache.Get(addr); !ok {
		t.Fatal("the unverified connection left no session in the cache")
	}
	// It trusts the server's CA: without the rule, the session's chain
	// would verify (and no name could be checked against it).
	st, err = dialNoName(t, addr, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{psk}, ClientSessionCache: cache, RootCAs: c.ca.Pool})
	if err != nil || st.DidResume || string(st.ExternalPSKIdentity) != "device-17" {
		t.Fatalf("PSK-only client: %v, resumed %v, identity %q; want a full handshake the PSK authenticates", err, st.DidResume, st.ExternalPSKIdentity)
	}
}

// dialNoName connects with cfg as it is (no ServerName taken from the
// address, as Dial would), reads the server's byte and its tickets, and
// returns what the client saw.
func dialNoName(t *testing.T, addr string, cfg *tlsflow.Config) (tlsflow.ConnectionState, error) {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := tlsflow.Client(raw, cfg)
	defer c.Close()
	c.SetDeadline(time.Now().Add(attackTimeout))
	if err := c.Handshake(); err != nil {
		return tlsflow.ConnectionState{}, err
	}
	_, err = io.ReadFull(c, make([]byte, 1))
	return c.ConnectionState(), err
}
