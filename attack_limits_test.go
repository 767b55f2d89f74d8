package tlsflow_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Attacks on sizes: what a peer makes tlsflow store, echo or send back
// must stay within limits.Default, so that no message tlsflow builds can
// outgrow its length prefix (and no build can fail, or panic, because a
// peer sized a field).

// TestClientRefusesOversizedHelloRetryCookie: a HelloRetryRequest cookie
// must be echoed whole in the second ClientHello (RFC 8446 §4.2.2), so a
// cookie above limits.Default.Cookie, up to the 65,400 bytes that still
// fit a HelloRetryRequest but never a ClientHello, is refused with
// illegal_parameter, and no panic. At the limit the cookie is echoed and
// the handshake completes.
func TestClientRefusesOversizedHelloRetryCookie(t *testing.T) {
	for _, n := range []int{limits.Default.Cookie, limits.Default.Cookie + 1, 65400} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			p, done := hostileServer(t, tlsflowClientConfig(0), nil)
			cookie := testpeer.Random(n)
			// P-256: a group the client sent no share for, so the request is legal.
			flowErr := p.ServerHandshake13(&testpeer.ServerOptions{
				Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key,
				HelloRetry: true, Group: uint16(tlsflow.CurveP256), Cookie: cookie,
			})
			if n > limits.Default.Cookie {
				wantVictimAlert(t, "client", done, sent(alert.IllegalParameter, anyStep, ""))
				wantPeerAlert(t, p, flowErr, alert.IllegalParameter)
				return
			}
			if err := victimErr(t, done); err != nil || flowErr != nil {
				t.Fatalf("a cookie of %d bytes (the limit): client %v, hostile server %v; want a completed handshake", n, err, flowErr)
			}
			echoed, _ := p.ClientHello2.Extensions.Find(wire.ExtCookie)
			var got wire.Cookie
			if err := got.Unmarshal(echoed); err != nil || !bytes.Equal(got, cookie) {
				t.Errorf("the second ClientHello does not echo the %d-byte cookie (%d bytes, %v)", n, len(got), err)
			}
		})
	}
}

var paddingCerts sync.Map // size -> DER

// paddingCert is a certificate from the shared CA of about size bytes (a
// private extension carries the bulk), to make chains long.
func paddingCert(t *testing.T, size int) []byte {
	t.Helper()
	if der, ok := paddingCerts.Load(size); ok {
		return der.([]byte)
	}
	tmpl := testpeer.Template("padding", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	bulk, _ := asn1.Marshal(make([]byte, max(size-600, 1)))
	tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}, Value: bulk}}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := testpeer.CertWithKey(issuer(sharedCerts().ca), tmpl, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	paddingCerts.Store(size, der)
	return der
}

// clientChain is the shared client's chain, padded with n certificates of
// about size bytes each.
func clientChain(t *testing.T, n, size int) [][]byte {
	chain := append([][]byte(nil), sharedCerts().client.Chain...)
	for range n - len(chain) {
		chain = append(chain, paddingCert(t, size))
	}
	return chain
}

func chainBytes(chain [][]byte) int {
	n := 0
	for _, c := range chain {
		n += len(c)
	}
	return n
}

// handshakeAndWrite is a victim that completes the handshake and writes
// one byte: a TLS 1.3 server's tickets go out before it.
func handshakeAndWrite(c *tlsflow.Conn) error {
	if err := c.Handshake(); err != nil {
		return err
	}
	_, err := c.Write([]byte("x"))
	return err
}

// TestLargeClientChainsStayWithinTheLimits: a client's chain is kept in
// the session, and so in the ticket; a chain above 64 KiB would make a
// ticket no NewSessionTicket can carry (ticket<1..2^16-1>). A chain within
// limits.Default.ChainBytes and ChainCertificates is accepted (with
// RequestClientCert, unverified) and the handshake completes; but the
// server issues no ticket larger than limits.Default.Ticket: in TLS 1.3
// none at all, in TLS 1.2 an empty NewSessionTicket (RFC 5077 §3.3: "the
// server ... sends a NewSessionTicket message with a zero-length ticket").
// A chain above ChainBytes, or with more than ChainCertificates
// certificates, is refused with bad_certificate at the client's
// Certificate (step 5).
func TestLargeClientChainsStayWithinTheLimits(t *testing.T) {
	lim := limits.Default
	cases := []struct {
		name  string
		chain func(t *testing.T) [][]byte
		ok    bool
	}{
		{"about 100 KB in 13 certificates", func(t *testing.T) [][]byte { return clientChain(t, 13, 9000) }, true},
		{"above ChainBytes", func(t *testing.T) [][]byte {
			// Few certificates, large ones: over ChainBytes, under the
			// Certificate message limit, so it reaches the engine.
			return clientChain(t, 20, lim.ChainBytes/16)
		}, false},
		{"ChainCertificates", func(t *testing.T) [][]byte { return clientChain(t, lim.ChainCertificates, 700) }, true},
		{"ChainCertificates+1", func(t *testing.T) [][]byte { return clientChain(t, lim.ChainCertificates+1, 700) }, false},
	}
	for _, v := range versions {
		for _, c := range cases {
			t.Run(v.name+"/"+c.name, func(t *testing.T) {
				chain := c.chain(t)
				if c.name == "above ChainBytes" && chainBytes(chain) <= lim.ChainBytes {
					t.Fatalf("test chain of %d bytes is not above ChainBytes", chainBytes(chain))
				}
				cfg := tlsflowServerConfig(v.v)
				cfg.ClientAuth = tlsflow.RequestClientCert
				p, done := hostileClient(t, cfg, handshakeAndWrite)
				flowErr := clientHandshake(p, v.v, &testpeer.ClientOptions{Chain: chain, Signer: sharedCerts().client.Key})
				if !c.ok {
					wantVictimAlert(t, "server", done, sent(alert.BadCertificate, 5, "Certificate"))
					wantPeerAlert(t, p, flowErr, alert.BadCertificate)
					return
				}
				if flowErr == nil && v.v == tlsflow.VersionTLS13 {
					_, flowErr = p.ReadApplicationData() // the tickets come first
				}
				if err := victimErr(t, done); err != nil || flowErr != nil {
					t.Fatalf("a %d-byte chain of %d certificates: server %v, hostile client %v; want a completed handshake",
						chainBytes(chain), len(chain), err, flowErr)
				}
				if chainBytes(chain) < lim.Ticket {
					return // the ticket fits: nothing to check
				}
				switch v.v {
				case tlsflow.VersionTLS12:
					if p.Ticket12 == nil || len(p.Ticket12.Ticket) != 0 {
						t.Errorf("TLS 1.2 server sent %v; want an empty NewSessionTicket (the sealed session exceeds limits.Default.Ticket)",
							ticketLen(p.Ticket12))
					}
				case tlsflow.VersionTLS13:
					for _, tk := range p.Tickets13 {
						t.Errorf("TLS 1.3 server issued a %d-byte ticket; want none above limits.Default.Ticket (%d)", len(tk.Ticket), lim.Ticket)
					}
				}
			})
		}
	}
}

func ticketLen(nst *wire.NewSessionTicket) string {
	if nst == nil {
		return "no NewSessionTicket"
	}
	return fmt.Sprintf("a NewSessionTicket with a %d-byte ticket", len(nst.Ticket))
}

// TestClientKeepsNoTicketAboveTheLimit: a client keeps no ticket larger
// than limits.Default.Ticket, since offering it could make a ClientHello
// too large to build (a ~65,500-byte ticket fits a NewSessionTicket but
// not a ClientHello's extensions). The handshake that brought it
// completes; the next connection with the same ClientSessionCache does a
// full handshake, offering nothing. A ticket of exactly the limit is kept
// and offered.
func TestClientKeepsNoTicketAboveTheLimit(t *testing.T) {
	for _, v := range versions {
		for _, n := range []int{limits.Default.Ticket, limits.Default.Ticket + 1, 65500} {
			t.Run(fmt.Sprintf("%s/%d", v.name, n), func(t *testing.T) {
				cfg := tlsflowClientConfig(v.v)
				cfg.ClientSessionCache = tlsflow.NewLRUClientSessionCache(4)
				ticket := testpeer.Random(n)
				srv := &testpeer.ServerOptions{Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key}

				p, done := hostileServer(t, cfg, readOneByte)
				var err error
				if v.v == tlsflow.VersionTLS12 {
					srv.Ticket12 = &wire.NewSessionTicket{LifetimeHint: 3600, Ticket: ticket}
					err = p.ServerHandshake12(srv)
				} else if err = p.ServerHandshake13(srv); err == nil {
					err = p.SendNewSessionTicket13(&wire.NewSessionTicket13{Lifetime: 3600, AgeAdd: 7, Nonce: []byte{0}, Ticket: ticket})
				}
				if err == nil {
					err = p.WriteApplicationData([]byte("x"))
				}
				if verr := victimErr(t, done); verr != nil || err != nil {
					t.Fatalf("connection bringing a %d-byte ticket: client %v, hostile server %v; want it to complete", n, verr, err)
				}
				p.Close()

				p, done = hostileServer(t, cfg, nil)
				if err := p.ExpectClientHello(); err != nil {
					t.Fatalf("second connection: no ClientHello: %v (client: %v)", err, victimErr(t, done))
				}
				offered := offeredTicket(t, p.ClientHello, v.v)
				if n <= limits.Default.Ticket && !bytes.Equal(offered, ticket) {
					t.Errorf("a ticket of %d bytes (the limit) is not offered (offered %d bytes)", n, len(offered))
				}
				if n > limits.Default.Ticket && len(offered) != 0 {
					t.Errorf("a ticket of %d bytes, above limits.Default.Ticket, is offered", n)
				}
				srv.Ticket12 = nil
				flowErr := serverHandshake(p, v.v, srv)
				if err := victimErr(t, done); err != nil || flowErr != nil {
					t.Errorf("second connection: client %v, hostile server %v; want a full handshake", err, flowErr)
				}
			})
		}
	}
}

// offeredTicket is the ticket a ClientHello offers: session_ticket in TLS
// 1.2, the first pre_shared_key identity in TLS 1.3.
func offeredTicket(t *testing.T, ch *wire.ClientHello, v uint16) []byte {
	if v == tlsflow.VersionTLS12 {
		data, _ := ch.Extensions.Find(wire.ExtSessionTicket)
		return data
	}
	var psk wire.PreSharedKeyClientHello
	if found, err := ch.Extensions.Decode(wire.ExtPreSharedKey, &psk); err != nil {
		t.Fatalf("pre_shared_key: %v", err)
	} else if found {
		return psk.Identities[0].Identity
	}
	return nil
}

var caPools sync.Map // total -> *x509.CertPool

// caNamesTotalling returns a pool of CA certificates whose subjects, each
// with its 2-byte length, add up to exactly total bytes: what a server
// puts in certificate_authorities.
func caNamesTotalling(t *testing.T, total int) *x509.CertPool {
	t.Helper()
	if p, ok := caPools.Load(total); ok {
		return p.(*x509.CertPool)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	newCA := func(i, orgLen int) *x509.Certificate {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 1)),
			Subject:      pkix.Name{Organization: []string{fmt.Sprintf("%04d", i) + strings.Repeat("o", orgLen)}},
			NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		return cert
	}
	pool := x509.NewCertPool()
	sum := 0
	for i := 0; ; i++ {
		left := total - sum
		if left > 1500 {
			c := newCA(i, 1000)
			pool.AddCert(c)
			sum += len(c.RawSubject) + 2
			continue
		}
		// The last name: adjust its length until it fills what is left.
		orgLen := left - 2 - 30
		for range 5 {
			c := newCA(i, orgLen)
			if got := len(c.RawSubject) + 2; got != left {
				orgLen += left - got
				continue
			}
			pool.AddCert(c)
			caPools.Store(total, pool)
			return pool
		}
		t.Fatalf("cannot make CA names of exactly %d bytes", total)
	}
}

// TestServerRefusesClientCANamesAboveTheLimit: the certificate_authorities
// a server names in CertificateRequest come from its configuration
// (ClientCAs), and must leave room in a message with a 2-byte length
// (RFC 8446 §4.2.4, RFC 5246 §7.4.4). Names above limits.Default.CANames
// are a configuration error: the handshake fails locally before any byte
// is sent, so the client sees the connection closed without a ServerHello
// and without an alert. At the limit the handshake works.
func TestServerRefusesClientCANamesAboveTheLimit(t *testing.T) {
	for _, v := range versions {
		for _, total := range []int{limits.Default.CANames, limits.Default.CANames + 1} {
			t.Run(fmt.Sprintf("%s/%d", v.name, total), func(t *testing.T) {
				cfg := tlsflowServerConfig(v.v)
				cfg.ClientAuth, cfg.ClientCAs = tlsflow.RequestClientCert, caNamesTotalling(t, total)
				p, done := hostileClient(t, cfg, nil)
				flowErr := clientHandshake(p, v.v, &testpeer.ClientOptions{})
				err := victimErr(t, done)
				if total <= limits.Default.CANames {
					if err != nil || flowErr != nil {
						t.Fatalf("CA names of %d bytes (the limit): server %v, hostile client %v; want a completed handshake", total, err, flowErr)
					}
					return
				}
				var ae *tlsflow.Error
				if !errors.As(err, &ae) || !ae.Local {
					t.Errorf("server: %v; want a local configuration error (CA names of %d bytes above limits.Default.CANames)", err, total)
				}
				var pa *testpeer.AlertError
				if p.ServerHello != nil || errors.As(flowErr, &pa) || flowErr == nil {
					t.Errorf("hostile client: ServerHello %v, error %v; want the connection closed before a ServerHello, without an alert",
						p.ServerHello != nil, flowErr)
				}
			})
		}
	}
}
