package tlsflow_test

import (
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/testpeer"
)

// The error idioms of crypto/tls work on tlsflow's errors, so that code
// ported by changing the import keeps working (issue 11).

// handshakePair runs a client and a server handshake over loopback TCP and
// returns both errors.
func handshakePair(t *testing.T, cli, srv *tlsflow.Config) (cliErr, srvErr error) {
	t.Helper()
	a, b := testpeer.Loopback(t, 10*time.Second)
	done := make(chan error, 1)
	go func() { done <- tlsflow.Server(b, srv).Handshake() }()
	cliErr = tlsflow.Client(a, cli).Handshake()
	if cliErr != nil {
		a.Close()
	}
	return cliErr, <-done
}

// TestAlertErrorValueIdiom: errors.As with a tlsflow.AlertError value, as
// with crypto/tls's, finds the alert a failure went with, sent or received;
// tlsflow.AlertError(n) converts, and an error without an alert has none.
func TestAlertErrorValueIdiom(t *testing.T) {
	c := sharedCerts()
	cliErr, srvErr := handshakePair(t, &tlsflow.Config{RootCAs: c.otherCA.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	var sent, received tlsflow.AlertError
	if !errors.As(cliErr, &sent) || sent != tlsflow.AlertError(48) {
		t.Errorf("client error %v: AlertError %v; want unknown_ca (48), the alert it sent", cliErr, sent)
	}
	if !errors.As(srvErr, &received) || received != tlsflow.AlertError(48) {
		t.Errorf("server error %v: AlertError %v; want unknown_ca (48), the alert it received", srvErr, received)
	}
	var rich *tlsflow.Error
	if !errors.As(cliErr, &rich) || rich.Received || rich.Step != 3 {
		t.Errorf("client error %v: *tlsflow.Error %+v; want the alert sent at step 3", cliErr, rich)
	}
	// The server's session tickets go out with its first flight, but
	// they are not a step of the handshake: the alert came after its
	// Finished (step 7).
	if !errors.As(srvErr, &rich) || !rich.Received || rich.Step != 7 || rich.Message != "after Finished" {
		t.Errorf("server error %v: *tlsflow.Error %+v; want the alert received at step 7, after Finished", srvErr, rich)
	}

	// A configuration error sends no alert: there is none to find.
	err := tlsflow.Client(nopConn{}, &tlsflow.Config{}).Handshake()
	var none tlsflow.AlertError
	if err == nil || errors.As(err, &none) {
		t.Errorf("configuration error %v: AlertError %v found; want none", err, none)
	}
}

// TestCertificateVerificationErrorIsReturnedAsIs: a handshake that fails to
// verify the peer's chain returns the *CertificateVerificationError itself
// (crypto/tls's err.(*tls.CertificateVerificationError) idiom), with the
// x509 error and the *tlsflow.Error (alert, step) behind it.
func TestCertificateVerificationErrorIsReturnedAsIs(t *testing.T) {
	c := sharedCerts()
	err, _ := handshakePair(t, &tlsflow.Config{RootCAs: c.otherCA.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	cve, ok := err.(*tlsflow.CertificateVerificationError)
	if !ok {
		t.Fatalf("error %T %v; want a *tlsflow.CertificateVerificationError", err, err)
	}
	var unknown x509.UnknownAuthorityError
	var rich *tlsflow.Error
	if len(cve.UnverifiedCertificates) == 0 || !errors.As(err, &unknown) || !errors.As(err, &rich) || rich.Alert.String() != "unknown_ca" {
		t.Fatalf("error %v: certificates %d, x509 error found %v, *tlsflow.Error %+v", err, len(cve.UnverifiedCertificates),
			errors.As(err, &unknown), rich)
	}
	if err.Error() != rich.Error() {
		t.Errorf("Error() = %q; want the handshake's own message %q", err.Error(), rich.Error())
	}
}

// TestRecordHeaderErrorForAPlainTextPeer: a server whose client speaks
// plain HTTP gets crypto/tls's RecordHeaderError (a value), with the five
// bytes and the connection, and sends the client nothing: the caller can
// answer in HTTP (see tlshttp).
func TestRecordHeaderErrorForAPlainTextPeer(t *testing.T) {
	a, b := testpeer.Loopback(t, 10*time.Second)
	done := make(chan error, 1)
	go func() {
		done <- tlsflow.Server(b, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(sharedCerts().ecdsa)}}).Handshake()
	}()
	if _, err := io.WriteString(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	err := <-done
	rhe, ok := err.(tlsflow.RecordHeaderError)
	if !ok || string(rhe.RecordHeader[:]) != "GET /" || rhe.Conn != b {
		t.Fatalf("error %T %v; want a RecordHeaderError with %q and the connection", err, err, "GET /")
	}
	b.Close()
	if got, _ := io.ReadAll(a); len(got) != 0 {
		t.Errorf("the server sent %q to a plain-text client; want nothing", got)
	}
}

// nopConn is a net.Conn for a handshake that fails before any I/O.
type nopConn struct{ net.Conn }

func (nopConn) Close() error                     { return nil }
func (nopConn) LocalAddr() net.Addr              { return nil }
func (nopConn) RemoteAddr() net.Addr             { return nil }
func (nopConn) SetDeadline(time.Time) error      { return nil }
func (nopConn) SetReadDeadline(time.Time) error  { return nil }
func (nopConn) SetWriteDeadline(time.Time) error { return nil }

// TestErrorTextsCodeForCryptoTLSLooksFor: where code written for crypto/tls
// matches error text (a PostgreSQL driver's and a WebSocket library's
// tests do), tlsflow's errors contain crypto/tls's words for the same
// failure: a certificate that fails verification, PEM input without the
// block wanted, a version range with nothing in it.
func TestErrorTextsCodeForCryptoTLSLooksFor(t *testing.T) {
	c := sharedCerts()
	cliErr, _ := handshakePair(t, &tlsflow.Config{RootCAs: c.otherCA.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	_, badCert := tlsflow.X509KeyPair([]byte("invalid data"), c.ecdsa.KeyPEM())
	_, badKey := tlsflow.X509KeyPair(c.ecdsa.ChainPEM(), []byte("invalid data"))
	_, switched := tlsflow.X509KeyPair(c.ecdsa.KeyPEM(), c.ecdsa.ChainPEM())
	versionErr, _ := handshakePair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS10},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"verification", cliErr, "tls: failed to verify certificate: x509:"},
		{"no PEM in the certificate", badCert, "failed to find any PEM data in certificate input"},
		{"no PEM in the key", badKey, "failed to find any PEM data in key input"},
		{"switched", switched, `failed to find "CERTIFICATE" PEM block in certificate input`},
		{"MaxVersion TLS 1.0", versionErr, "tls: no supported versions"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v; want it to contain %q", tc.name, tc.err, tc.want)
		}
	}
	if !strings.Contains(switched.Error(), "switched") {
		t.Errorf("certificate and key given the wrong way round: %v; want it to say so", switched)
	}
}
